package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Reads records in order from a position, and tails new ones as they are appended. Not thread-safe: one reader per
 * thread. Corrupt records are returned as such rather than thrown, so a reader can report them and move on.
 *
 * <p>It reads through Chronicle's tailer, which is fast and indexed, on a WAL that recovery has vouched for. Damage
 * that appears while the intake runs would stop that tailer for good at the damaged header, with the writer's
 * records piling up behind it; so when the tailer returns nothing while the writer has appended beyond it, the
 * reader walks that segment itself ({@link SegmentScanner}), returns what it finds past the damage, and hands back
 * to the tailer at the next segment. Indices after a damaged byte range are then the walk's own count (see
 * {@link SegmentScanner}); the repair at the next start renumbers that range and tells the forwarder.
 */
public final class WalReader implements AutoCloseable {
    private static final int SCAN_BATCH = 512;
    /**
     * How much of what it has read stays mapped in behind it: a reader goes back only when told to seek, and then
     * reads the pages in again from the page cache.
     */
    static final long READ_BEHIND = 1L << 20;

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
    private final Path dir;
    private final RollCycle rollCycle;
    private final LongSupplier lastAppended;
    private final LongConsumer diverged;
    /** Monotonic nanoseconds: read timeouts and the pause between walks that found nothing. */
    private final LongSupplier nanoClock;
    private SegmentWalk walk;
    private final ResidentWindow behind = new ResidentWindow(READ_BEHIND);

    /**
     * @param sequences    told about each damaged record, so its batch is no longer answered DUPLICATE
     * @param lastAppended the writer's last appended index (-1 for none): "the tailer returns nothing" means stuck
     *                     only while the writer is ahead of it
     * @param diverged     told the first index this reader numbers by its own count (after a damaged byte range)
     */
    WalReader(ExcerptTailer tailer, AgentSequences sequences, Path dir, RollCycle rollCycle,
              LongSupplier lastAppended, LongConsumer diverged, LongSupplier nanoClock) {
        this.diverged = diverged;
        this.nanoClock = nanoClock;
        this.tailer = tailer;
        this.sequences = sequences;
        this.dir = dir;
        this.rollCycle = rollCycle;
        this.lastAppended = lastAppended;
    }

    public WalReader toStart() {
        walk = null;
        tailer.toStart();
        return this;
    }

    public WalReader toEnd() {
        walk = null;
        tailer.toEnd();
        return this;
    }

    /** Positions the reader so that the next record returned is the one at {@code index}. */
    public boolean seek(long index) {
        if (walk != null && walk.covers(index)) {
            walk.restartAt(index);
            return true;
        }
        walk = null;
        return tailer.moveToIndex(index);
    }

    /** Positions the reader just after {@code index}. */
    public void seekAfter(long index) {
        if (walk != null && walk.covers(index + 1)) {
            walk.restartAt(index + 1);
            return;
        }
        walk = null;
        if (tailer.moveToIndex(index)) {
            try (DocumentContext dc = tailer.readingDocument()) {
                // consume the record at index itself
            }
        }
    }

    /** The next record, or null when none is available yet. */
    public Entry next() {
        if (walk != null) {
            Entry e = walk.next();
            if (e != null || walk != null) {
                return e;
            }
        }
        Entry e = readTailer();
        if (walk != null) {
            return walk.next(); // the tailer met a header it cannot be trusted past
        }
        if (e != null || lastAppended.getAsLong() < tailer.index()) {
            return e;
        }
        // The writer publishes an index only once its record is complete, so a tailer that returns nothing while
        // the writer is ahead of it is stopped: at damage, or at a segment end it does not pass on its own.
        SegmentWalk probe = new SegmentWalk(rollCycle.toCycle(tailer.index()), tailer.index());
        Entry first = probe.next();
        if (first != null) {
            walk = probe;
        }
        return first;
    }

    /**
     * One document from the tailer. A document without a record's structure means its header (its length) is
     * damaged and the tailer, which follows that length, can no longer be trusted to land on the next record: the
     * segment is then walked from that index instead (see {@link SegmentWalk}), and null is returned.
     */
    private Entry readTailer() {
        long index = tailer.index();
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            index = dc.index();
            File file = tailer.currentFile();
            String segment = file == null ? "?" : file.getName();
            long position = dc.wire().bytes().readPosition() - 4;
            behind.passed(dc.wire().bytes().bytesStore(), position);
            try {
                return new Valid(RecordCodec.read(index, segment, dc.wire().bytes()));
            } catch (CorruptRecordException e) {
                if (e.framingDamaged()) {
                    walk = new SegmentWalk(rollCycle.toCycle(index), index);
                    return null;
                }
                sequences.forgetDamaged(e.record());
                return new Corrupt(index, segment, position, e.getMessage());
            }
        } catch (RuntimeException e) {
            // Chronicle itself could not follow the damage (a length past the file, say)
            walk = new SegmentWalk(rollCycle.toCycle(index), index);
            return null;
        }
    }

    /** Waits up to {@code timeoutMillis} for the next record; null if none arrived. */
    public Entry next(long timeoutMillis) throws InterruptedException {
        long deadline = nanoClock.getAsLong() + timeoutMillis * 1_000_000L;
        long pauseMicros = 10;
        while (true) {
            Entry e = next();
            if (e != null || nanoClock.getAsLong() >= deadline) {
                return e;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseMicros * 1000);
            if (Thread.interrupted()) throw new InterruptedException();
            pauseMicros = Math.min(pauseMicros * 2, 1000);
        }
    }

    /** Index the next record will have (or would have, if none has been written yet). */
    public long nextIndex() {
        return walk != null ? walk.wanted : tailer.index();
    }

    /** Index of the last record returned. */
    public long lastReadIndex() {
        return walk != null ? walk.wanted - 1 : tailer.lastReadIndex();
    }

    @Override
    public void close() {
        tailer.close();
    }

    /**
     * Reading one segment past damage with {@link SegmentScanner}, in batches, from where the tailer stopped; hands
     * back to the tailer at the next segment once this one is read to its end.
     */
    private final class SegmentWalk {
        /** After a walk that found nothing new, the next one waits at least this long (it opens the file). */
        private static final long IDLE_NANOS = 2_000_000L;
        private final int cycle;
        private final long firstIndex;
        private final Path file;
        private final ArrayDeque<Entry> buffered = new ArrayDeque<>();
        private long wanted;
        private long resumePosition;
        private long resumeOrdinal;
        private long idleUntil;

        SegmentWalk(int cycle, long wanted) {
            this.cycle = cycle;
            this.firstIndex = rollCycle.toIndex(cycle, 0);
            this.wanted = wanted;
            this.file = SegmentFiles.first(dir, rollCycle, c -> c == cycle).map(SegmentFiles.Entry::path).orElse(null);
        }

        boolean covers(long index) {
            return rollCycle.toCycle(index) == cycle;
        }

        /** From the segment's start again (numbering must be the same on every walk), returning from {@code index}. */
        void restartAt(long index) {
            buffered.clear();
            wanted = index;
            resumePosition = 0;
            resumeOrdinal = 0;
        }

        Entry next() {
            if (buffered.isEmpty() && nanoClock.getAsLong() - idleUntil >= 0) {
                fill();
                if (buffered.isEmpty()) {
                    idleUntil = nanoClock.getAsLong() + IDLE_NANOS;
                }
            }
            if (!buffered.isEmpty()) {
                Entry e = buffered.poll();
                wanted = e.index() + 1;
                return e;
            }
            long appended = lastAppended.getAsLong();
            if (appended >= 0 && rollCycle.toCycle(appended) > cycle) {
                // the writer has moved on to a later segment, so this one is complete and read to its end
                int nextCycle = SegmentFiles.first(dir, rollCycle, c -> c > cycle).map(SegmentFiles.Entry::cycle)
                        .orElse(-1);
                if (nextCycle > cycle && tailer.moveToIndex(rollCycle.toIndex(nextCycle, 0))) {
                    walk = null; // the tailer takes over at the next segment
                }
            }
            return null;
        }

        private void fill() {
            if (file == null) {
                return;
            }
            try {
                SegmentScanner.Summary s = new SegmentScanner(file, firstIndex).walk(resumePosition, resumeOrdinal, 0,
                        new SegmentScanner.Visitor() {
                            @Override
                            public void record(long ordinal, long position, byte[] raw, WalRecord record,
                                               boolean headerDamaged) {
                                if (record.index() >= wanted) {
                                    buffered.add(new Valid(record));
                                }
                            }

                            @Override
                            public void damaged(long ordinal, long from, long to, String reason, byte[] raw) {
                                if (raw == null) {
                                    diverged.accept(firstIndex + ordinal); // an unknown number of records lost
                                }
                                if (firstIndex + ordinal >= wanted) {
                                    sequences.forgetDamaged(raw);
                                    buffered.add(new Corrupt(firstIndex + ordinal, file.getFileName().toString(),
                                            from, reason));
                                }
                            }

                            @Override
                            public boolean stop() {
                                return buffered.size() >= SCAN_BATCH;
                            }
                        });
                resumePosition = s.end();
                resumeOrdinal = s.nextOrdinal();
            } catch (IOException e) {
                throw new UncheckedIOException("reading WAL segment " + file + " past damage", e);
            }
        }
    }
}
