package dev.holdfast.shipper.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.Priority;
import java.io.UncheckedIOException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Collects what a source hands over as Events; encoded ones are parsed, and must say the priority they came with. */
final class CollectingSink implements EventSink {
    final List<Event> events = new ArrayList<>();

    @Override
    public void event(Event event) {
        events.add(event);
    }

    @Override
    public void encoded(Priority priority, byte[] bytes, int length) {
        Event e;
        try {
            e = Event.parser().parseFrom(bytes, 0, length);
        } catch (InvalidProtocolBufferException x) {
            throw new UncheckedIOException(new IOException("the source handed over bytes that are not an Event", x));
        }
        assertEquals(priority, e.getPriority(), "the priority handed over is the event's own");
        events.add(e);
    }
}
