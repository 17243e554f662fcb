package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
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
    /** Whether a seek into a cycle must first walk what Chronicle's seek will follow (see {@link #chronicleFinds}). */
    private final java.util.function.IntPredicate seekNeedsCheck;
    /** Monotonic nanoseconds: read timeouts and the pause between walks that found nothing. */
    private final LongSupplier nanoClock;
    private SegmentWalk walk;
    /**
     * Where the next document should start, after the last one the tailer returned in cycle {@code expectedIn}; -1 when
     * unknown (after a seek or a segment change). Chronicle passes metadata documents silently, following their
     * length: a garbled header that happens to say "metadata" would send it past intact records unseen.
     */
    private long expectedNext = -1;
    private int expectedIn;
    /** Times this reader stopped trusting Chronicle's tailer or seek and walked a segment itself. */
    private int walksStarted;
    private final ResidentWindow behind = new ResidentWindow(READ_BEHIND);
    private final PageCacheTrim cached;

    /**
     * @param sequences    told about each damaged record, so its batch is no longer answered DUPLICATE
     * @param lastAppended the writer's last appended index (-1 for none): "the tailer returns nothing" means stuck
     *                     only while the writer is ahead of it
     * @param diverged     told the first index this reader numbers by its own count (after a damaged byte range)
     * @param seekNeedsCheck cycles whose segments may hold damage Chronicle's seeks would follow blindly
     */
    WalReader(ExcerptTailer tailer, AgentSequences sequences, Path dir, RollCycle rollCycle,
              LongSupplier lastAppended, LongConsumer diverged, java.util.function.IntPredicate seekNeedsCheck,
              PageCacheTrim.LibC libc, LongSupplier nanoClock) {
        this.cached = new PageCacheTrim(libc, PageCacheTrim.READER_KEEP);
        this.diverged = diverged;
        this.seekNeedsCheck = seekNeedsCheck;
        this.nanoClock = nanoClock;
        this.tailer = tailer;
        this.sequences = sequences;
        this.dir = dir;
        this.rollCycle = rollCycle;
        this.lastAppended = lastAppended;
    }

    public WalReader toStart() {
        walk = null;
        expectedNext = -1;
        tailer.toStart();
        return this;
    }

    public WalReader toEnd() {
        walk = null;
        expectedNext = -1;
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
        expectedNext = -1;
        if (!chronicleFinds(index)) {
            return true;
        }
        return tailer.moveToIndex(index);
    }

    /** Positions the reader just after {@code index}. */
    public void seekAfter(long index) {
        if (walk != null && walk.covers(index + 1)) {
            walk.restartAt(index + 1);
            return;
        }
        walk = null;
        expectedNext = -1;
        if (!chronicleFinds(index + 1)) {
            return;
        }
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
        SegmentWalk probe = walkFrom(tailer.index(), originOf(tailer.index()));
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
        long origin = originOf(index);
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            index = dc.index();
            File file = tailer.currentFile();
            String segment = file == null ? "?" : file.getName();
            Bytes<?> bytes = dc.wire().bytes();
            long position = bytes.readPosition() - 4;
            int cycle = rollCycle.toCycle(index);
            if (expectedNext >= 0 && expectedIn == cycle && position != expectedNext
                    && !onlyMetadataBetween(bytes, expectedNext, position)) {
                walk = walkFrom(index, expectedNext); // the tailer jumped: walk what it skipped
                return null;
            }
            expectedIn = cycle;
            expectedNext = SegmentScanner.align(bytes.readLimit());
            behind.passed(bytes.bytesStore(), position);
            if (file != null) {
                cached.passed(file, position);
            }
            try {
                return new Valid(RecordCodec.read(index, segment, dc.wire().bytes()));
            } catch (CorruptRecordException e) {
                if (e.framingDamaged()) {
                    walk = walkFrom(index, position);
                    return null;
                }
                sequences.forgetDamaged(e.record());
                return new Corrupt(index, segment, position, e.getMessage());
            }
        } catch (RuntimeException e) {
            // Chronicle itself could not follow the damage (a length past the file, say)
            walk = walkFrom(index, origin);
            return null;
        }
    }

    /**
     * Whether Chronicle's seek to {@code index} can be trusted. It goes to the last indexed record before it and
     * follows headers from there, so in a segment that may hold damage no walk of this run has seen (trusted from
     * its mark at start) that stretch is walked first. If it is not intact, the reader walks the segment from that
     * indexed record instead ({@link SegmentWalk}) and false is returned.
     */
    private boolean chronicleFinds(long index) {
        int cycle = rollCycle.toCycle(index);
        if (!seekNeedsCheck.test(cycle)) {
            return true;
        }
        Path file = SegmentFiles.first(dir, rollCycle, c -> c == cycle).map(SegmentFiles.Entry::path).orElse(null);
        if (file == null) {
            return true; // nothing there to be astray in
        }
        try {
            SegmentScanner scanner = new SegmentScanner(file, rollCycle.toIndex(cycle, 0));
            long ordinal = rollCycle.toSequenceNumber(index);
            SegmentScanner.Indexed from = scanner.indexedAtOrBefore(ordinal);
            if (from != null && scanner.intactThrough(from, ordinal)) {
                return true;
            }
            walk = from == null ? walkFrom(index, -1, 0) : walkFrom(index, from.position(), from.ordinal());
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("checking WAL segment " + file + " before a seek", e);
        }
    }

    /**
     * Where the document numbered {@code index} starts, as far as the tailer's last read tells: right after that
     * read, in the same segment; -1 when unknown.
     */
    private long originOf(long index) {
        return expectedNext >= 0 && expectedIn == rollCycle.toCycle(index) ? expectedNext : -1;
    }

    /**
     * A walk of this segment that returns records from {@code index} on. Started at {@code position} (the document
     * the tailer numbered {@code index}, every record before it read and numbered exactly), it numbers on from
     * there and never returns what the tailer returned. Started from the segment's first byte ({@code position}
     * -1), it numbers by its own count, which after damage of unknown extent may differ from the tailer's.
     */
    private SegmentWalk walkFrom(long index, long position) {
        return walkFrom(index, position, rollCycle.toSequenceNumber(index));
    }

    /** A walk returning records from {@code index} on, starting at {@code position} (record {@code ordinal}). */
    private SegmentWalk walkFrom(long index, long position, long ordinal) {
        expectedNext = -1;
        walksStarted++;
        int cycle = rollCycle.toCycle(index);
        return position < 0 ? new SegmentWalk(cycle, index, 0, 0) : new SegmentWalk(cycle, index, position, ordinal);
    }

    /** Whether the bytes from {@code from} to {@code to} are whole, plausible metadata documents (index arrays). */
    private static boolean onlyMetadataBetween(Bytes<?> bytes, long from, long to) {
        try {
            return onlyMetadata(bytes, from, to);
        } catch (RuntimeException e) {
            return false; // Chronicle could not read there: walk it instead
        }
    }

    private static boolean onlyMetadata(Bytes<?> bytes, long from, long to) {
        long p = from;
        while (p < to) {
            int h = bytes.readInt(p);
            int len = h & SegmentScanner.LENGTH_MASK;
            if ((h & SegmentScanner.END_OF_DATA) != SegmentScanner.META_DATA || len < 3 || p + 4 + len > to) {
                return false;
            }
            byte[] head = new byte[Math.min(len, SegmentScanner.META_HEAD_BYTES)];
            for (int i = 0; i < head.length; i++) {
                head[i] = (byte) bytes.readUnsignedByte(p + 4 + i);
            }
            if (!SegmentScanner.metaHeadPlausible(head)) {
                return false;
            }
            p = SegmentScanner.align(p + 4 + len);
        }
        return p == to;
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

    /** Times this reader walked a segment itself instead of trusting Chronicle (damage, or a check before a seek). */
    int walksStarted() {
        return walksStarted;
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
        /** Where every walk of this segment starts, and the ordinal of the document there. */
        private final long originPosition;
        private final long originOrdinal;
        private long wanted;
        private long resumePosition;
        private long resumeOrdinal;
        private long idleUntil;

        SegmentWalk(int cycle, long wanted, long originPosition, long originOrdinal) {
            this.cycle = cycle;
            this.firstIndex = rollCycle.toIndex(cycle, 0);
            this.wanted = wanted;
            this.originPosition = originPosition;
            this.originOrdinal = originOrdinal;
            this.resumePosition = originPosition;
            this.resumeOrdinal = originOrdinal;
            this.file = SegmentFiles.first(dir, rollCycle, c -> c == cycle).map(SegmentFiles.Entry::path).orElse(null);
        }

        boolean covers(long index) {
            return rollCycle.toCycle(index) == cycle && rollCycle.toSequenceNumber(index) >= originOrdinal;
        }

        /** From the origin again (numbering must be the same on every walk), returning from {@code index}. */
        void restartAt(long index) {
            buffered.clear();
            wanted = index;
            resumePosition = originPosition;
            resumeOrdinal = originOrdinal;
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
