package dev.holdfast.shipper;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatcherTest {

    private record Closed(Priority priority, int events, List<Event> decoded, int bytes) {
    }

    private final List<Closed> closed = new ArrayList<>();

    private void sink(Priority p, int n, byte[] encoded) {
        try {
            closed.add(new Closed(p, n, EventBatch.parseFrom(encoded).getEventsList(), encoded.length));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Event event(String path, Priority p) {
        return Event.newBuilder().setPriority(p)
                .setFile(FileEvent.newBuilder().setPath(path).setKind(FileEvent.Kind.CREATE)).build();
    }

    @Test
    void closesAtMaxEventsAndKeepsOneBatchPerPriority() {
        Batcher b = new Batcher(3, 1 << 20, 1_000_000_000L, this::sink);
        b.add(event("/a/1", Priority.NORMAL), 0);
        b.add(event("/a/2", Priority.BULK), 0);
        b.add(event("/a/3", Priority.NORMAL), 0);
        b.add(event("/a/4", Priority.PRIORITY_UNSPECIFIED), 0); // counts as NORMAL
        assertEquals(1, closed.size());
        assertEquals(Priority.NORMAL, closed.get(0).priority());
        assertEquals(List.of("/a/1", "/a/3", "/a/4"),
                closed.get(0).decoded().stream().map(e -> e.getFile().getPath()).toList());
        b.closeAll();
        assertEquals(2, closed.size());
        assertEquals(Priority.BULK, closed.get(1).priority());
        assertEquals(1, closed.get(1).events());
    }

    @Test
    void neverExceedsMaxBytes() {
        Batcher b = new Batcher(1_000_000, 4096, 1_000_000_000L, this::sink);
        for (int i = 0; i < 1000; i++) {
            b.add(event("/var/log/" + "x".repeat(100) + i, Priority.NORMAL), 0);
        }
        b.closeAll();
        int total = 0;
        for (Closed c : closed) {
            assertTrue(c.bytes() <= 4096, "batch of " + c.bytes() + " bytes");
            assertEquals(c.events(), c.decoded().size());
            total += c.events();
        }
        assertEquals(1000, total, "nothing lost at the boundaries");
    }

    @Test
    void aBatchIsTheEventBatchProtobufWritesAndCarriesNothingOverToTheNext() {
        // event sizes whose lengths take one, two and three varint bytes, and batches that outgrow the first buffer
        List<byte[]> got = new ArrayList<>();
        Batcher b = new Batcher(7, 1 << 20, 1_000_000_000L, (p, n, encoded) -> got.add(encoded));
        EventBatch.Builder expected = EventBatch.newBuilder();
        List<byte[]> batches = new ArrayList<>();
        int[] pathLengths = {70_000, 1, 120, 127, 128, 300, 16_000, 16_400, 40_000, 5, 0, 2, 3, 4};
        for (int i = 0; i < pathLengths.length; i++) {
            Event e = event("/" + "p".repeat(pathLengths[i]), Priority.NORMAL);
            byte[] bytes = e.toByteArray();
            byte[] padded = Arrays.copyOf(bytes, bytes.length + 9); // only [0, length) is the event
            Arrays.fill(padded, bytes.length, padded.length, (byte) 0x55);
            b.add(Priority.NORMAL, padded, bytes.length, 0);
            expected.addEvents(e);
            if (expected.getEventsCount() == 7) {
                batches.add(expected.build().toByteArray());
                expected = EventBatch.newBuilder();
            }
        }
        assertEquals(2, got.size());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(batches.get(i), got.get(i), "batch " + i);
        }
    }

    @Test
    void closesAfterMaxDelayCountedFromTheOldestEvent() {
        Batcher b = new Batcher(1000, 1 << 20, 200, this::sink);
        b.add(event("/a", Priority.NORMAL), 1_000);
        b.add(event("/b", Priority.NORMAL), 1_150);
        assertEquals(1_200, b.nextDueNanos(1_150, 10_000));
        assertEquals(false, b.closeDue(1_199));
        assertEquals(true, b.closeDue(1_200));
        assertEquals(2, closed.get(0).events());
        assertEquals(11_200, b.nextDueNanos(1_200, 10_000), "nothing open: idle wait");
    }
}
