package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.File;

/**
 * Reads records in order from a position, and tails new ones as they are appended. Not thread-safe: one reader per
 * thread. Corrupt records are returned as such rather than thrown, so a reader can report them and move on.
 */
public final class WalReader implements AutoCloseable {

    /** One read: a valid record, or a record that failed validation. */
    public sealed interface Entry permits Valid, Corrupt {
        long index();
    }

    public record Valid(WalRecord record) implements Entry {
        @Override
        public long index() {
            return record.index();
        }
    }

    /**
     * A record, or a byte range, that could not be read.
     *
     * @param position byte offset in the segment where the damage starts, or -1 when unknown
     */
    public record Corrupt(long index, String segment, long position, String reason) implements Entry {
    }

    private final ExcerptTailer tailer;
    private final AgentSequences sequences;

    /** @param sequences told about each damaged record, so its batch is no longer answered DUPLICATE */
    WalReader(ExcerptTailer tailer, AgentSequences sequences) {
        this.tailer = tailer;
        this.sequences = sequences;
    }

    public WalReader toStart() {
        tailer.toStart();
        return this;
    }

    public WalReader toEnd() {
        tailer.toEnd();
        return this;
    }

    /** Positions the reader so that the next record returned is the one at {@code index}. */
    public boolean seek(long index) {
        return tailer.moveToIndex(index);
    }

    /** Positions the reader just after {@code index}. */
    public void seekAfter(long index) {
        if (tailer.moveToIndex(index)) {
            try (DocumentContext dc = tailer.readingDocument()) {
                // consume the record at index itself
            }
        }
    }

    /** The next record, or null when none is available yet. */
    public Entry next() {
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            long index = dc.index();
            File file = tailer.currentFile();
            String segment = file == null ? "?" : file.getName();
            long position = dc.wire().bytes().readPosition() - 4;
            try {
                return new Valid(RecordCodec.read(index, segment, dc.wire().bytes()));
            } catch (CorruptRecordException e) {
                sequences.forgetDamaged(e.record());
                return new Corrupt(index, segment, position, e.getMessage());
            }
        }
    }

    /** Waits up to {@code timeoutMillis} for the next record; null if none arrived. */
    public Entry next(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        long pauseMicros = 10;
        while (true) {
            Entry e = next();
            if (e != null || System.nanoTime() >= deadline) {
                return e;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseMicros * 1000);
            if (Thread.interrupted()) throw new InterruptedException();
            pauseMicros = Math.min(pauseMicros * 2, 1000);
        }
    }

    /** Index the next record will have (or would have, if none has been written yet). */
    public long nextIndex() {
        return tailer.index();
    }

    /** Index of the last record returned. */
    public long lastReadIndex() {
        return tailer.lastReadIndex();
    }

    @Override
    public void close() {
        tailer.close();
    }
}
