package dev.holdfast.shipper;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * Groups drained events into batches, one open batch per priority (so the spool can drop BULK without touching
 * anything more important), and closes a batch when it reaches {@code maxEvents} or {@code maxBytes}, or when its
 * oldest event has waited {@code maxDelayNanos}. Events are encoded once, here, as EventBatch field-3 entries: what
 * the spool stores and the wire carries. Used by the drain thread only.
 */
final class Batcher {

    /** Receives each closed batch. */
    interface Sink {
        void batch(Priority priority, int eventCount, byte[] encodedEvents);
    }

    private final int maxEvents;
    private final int maxBytes;
    private final long maxDelayNanos;
    private final Sink sink;
    private final Map<Priority, Open> open = new EnumMap<>(Priority.class);

    private static final class Open {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        final CodedOutputStream out = CodedOutputStream.newInstance(bytes, 4096);
        int events;
        long firstAtNanos;
    }

    Batcher(int maxEvents, int maxBytes, long maxDelayNanos, Sink sink) {
        if (maxEvents < 1 || maxBytes < 1024 || maxDelayNanos < 0) {
            throw new IllegalArgumentException("need maxEvents >= 1, maxBytes >= 1024, maxDelay >= 0");
        }
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.maxDelayNanos = maxDelayNanos;
        this.sink = sink;
    }

    /** Adds one event (its priority field says which batch); may close that batch. */
    void add(Event event, long nowNanos) {
        add(event.getPriority(), event.toByteArray(), event.getSerializedSize(), nowNanos);
    }

    /**
     * Adds one encoded Event, {@code event[0, length)}, whose priority field says {@code priority}; may close that
     * batch. The bytes are copied.
     */
    void add(Priority priority, byte[] event, int length, long nowNanos) {
        Priority p = priority == Priority.PRIORITY_UNSPECIFIED ? Priority.NORMAL : priority;
        int size = CodedOutputStream.computeTagSize(EventBatch.EVENTS_FIELD_NUMBER)
                + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
        Open b = open.get(p);
        if (b != null && b.events > 0 && b.out.getTotalBytesWritten() + size > maxBytes) {
            close(p); // the event would push this batch over maxBytes: it starts the next one
            b = null;
        }
        if (b == null) {
            b = open.computeIfAbsent(p, k -> new Open());
        }
        try {
            if (b.events == 0) {
                b.firstAtNanos = nowNanos;
            }
            b.out.writeTag(EventBatch.EVENTS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            b.out.writeUInt32NoTag(length);
            b.out.writeRawBytes(event, 0, length);
            b.events++;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        if (b.events >= maxEvents || b.out.getTotalBytesWritten() >= maxBytes) {
            close(p);
        }
    }

    /** Closes every batch whose oldest event has waited long enough; true if any was closed. */
    boolean closeDue(long nowNanos) {
        boolean any = false;
        for (Priority p : Priority.values()) {
            Open b = open.get(p);
            if (b != null && b.events > 0 && nowNanos - b.firstAtNanos >= maxDelayNanos) {
                close(p);
                any = true;
            }
        }
        return any;
    }

    /** When the next batch falls due, or {@code nowNanos + idleNanos} when none is open. */
    long nextDueNanos(long nowNanos, long idleNanos) {
        long due = nowNanos + idleNanos;
        for (Open b : open.values()) {
            if (b.events > 0) {
                due = Math.min(due, b.firstAtNanos + maxDelayNanos);
            }
        }
        return due;
    }

    /** Closes every open batch (shutdown). */
    void closeAll() {
        for (Priority p : Priority.values()) {
            Open b = open.get(p);
            if (b != null && b.events > 0) {
                close(p);
            }
        }
    }

    private void close(Priority p) {
        Open b = open.remove(p);
        try {
            b.out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        sink.batch(p, b.events, b.bytes.toByteArray());
    }
}
