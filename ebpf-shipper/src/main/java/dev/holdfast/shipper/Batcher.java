package dev.holdfast.shipper;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;

import java.util.Arrays;
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

    /**
     * One priority's open batch, kept and reused from batch to batch: its entries are written straight into an array
     * that grows to the largest batch once, instead of through a protobuf stream into a fresh byte stream per batch
     * (two more copies and a 64 KiB zeroed allocation per batch, on the drain thread).
     */
    private static final class Open {
        byte[] bytes = new byte[16 * 1024];
        int size;
        int events;
        long firstAtNanos;

        void entry(byte[] event, int length) {
            int need = size + 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
            if (need > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(need, 2 * bytes.length));
            }
            bytes[size++] = ENTRY_TAG;
            for (int v = length; ; v >>>= 7) { // the length as a varint
                if ((v & ~0x7F) == 0) {
                    bytes[size++] = (byte) v;
                    break;
                }
                bytes[size++] = (byte) ((v & 0x7F) | 0x80);
            }
            System.arraycopy(event, 0, bytes, size, length);
            size += length;
            events++;
        }
    }

    /** EventBatch.events (field 3), length-delimited: one byte. */
    private static final byte ENTRY_TAG = (byte) ((EventBatch.EVENTS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED);

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
        int size = 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
        Open b = open.computeIfAbsent(p, k -> new Open());
        if (b.events > 0 && b.size + size > maxBytes) {
            close(p); // the event would push this batch over maxBytes: it starts the next one
        }
        if (b.events == 0) {
            b.firstAtNanos = nowNanos;
        }
        b.entry(event, length);
        if (b.events >= maxEvents || b.size >= maxBytes) {
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
        Open b = open.get(p);
        byte[] batch = Arrays.copyOf(b.bytes, b.size);
        int events = b.events;
        b.size = 0;
        b.events = 0;
        sink.batch(p, events, batch);
    }
}
