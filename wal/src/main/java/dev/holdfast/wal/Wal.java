package dev.holdfast.wal;

import net.openhft.chronicle.core.io.BackgroundResourceReleaser;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The write-ahead log: open (with crash recovery), append through group commit, read, close.
 *
 * <p>Durability path: {@link #append} queues the batch for the single writer thread
 * ({@link GroupCommitWriter}), which appends it to Chronicle Queue, syncs the group at fsync durability, and only
 * then completes the returned future; the intake acknowledges on that completion.
 */
public final class Wal implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Wal.class);
    static final String LOCK_FILE = "holdfast.lock";

    private final WalConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final SingleChronicleQueue queue;
    private final AgentSequences sequences;
    private final DiskGuard guard;
    private final GroupCommitWriter writer;
    private final WalRecovery.Report recovery;
    private final MappedSegments mapped;
    private final SegmentVerifier verifier;
    /**
     * How the WAL (and the forwarder) tell time, always from a clock handed in: elapsed time (intervals, deadlines,
     * durations) from a LongSupplier of monotonic nanoseconds, System::nanoTime in production; wall time (instants
     * compared with receive times or file times, or written down) from a java.time.Clock. Tests hand in clocks they
     * move themselves.
     */
    private final LongSupplier nanoClock;
    private final Arrival arrival;
    /** Per cycle, the lowest index from which a reader numbered records past a damaged byte range itself. */
    private final java.util.concurrent.ConcurrentMap<Integer, Long> divergedFrom =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** posix_fadvise and friends, for the writer's and the readers' page-cache trims; null where unavailable. */
    private final PageCacheTrim.LibC libc;

    private Wal(WalConfig config, FileChannel lockChannel, FileLock lock, SingleChronicleQueue queue,
                AgentSequences sequences, DiskGuard guard, GroupCommitWriter writer, WalRecovery.Report recovery,
                MappedSegments mapped, SegmentVerifier verifier, PageCacheTrim.LibC libc, LongSupplier nanoClock) {
        this.libc = libc;
        this.mapped = mapped;
        this.verifier = verifier;
        this.nanoClock = nanoClock;
        this.config = config;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.queue = queue;
        this.sequences = sequences;
        this.guard = guard;
        this.writer = writer;
        this.arrival = writer::arrived;
        this.recovery = recovery;
    }

    /**
     * Opens the WAL in {@code config.dir()}, recovering from whatever a crash left behind, and starts the writer.
     * Fails fast if another process has the directory open.
     */
    public static Wal open(WalConfig config, CommitListener listener) throws IOException {
        return open(config, listener, System::nanoTime);
    }

    /** @param nanoClock monotonic nanoseconds for the writer, its sync and checkpoints, the disk guard and readers */
    static Wal open(WalConfig config, CommitListener listener, LongSupplier nanoClock) throws IOException {
        WalDirectory.checkWritable(config.dir());
        Files.createDirectories(config.dir());
        FileChannel lockChannel = FileChannel.open(config.dir().resolve(LOCK_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("WAL directory " + config.dir() + " is in use by another Holdfast process");
        }
        try {
            SequenceSnapshots snapshots = new SequenceSnapshots(config.dir());
            MappedSegments mapped = new MappedSegments();
            WalkMarks marks = new WalkMarks(config.dir());
            WalRecovery.Result recovered = new WalRecovery(config, snapshots, marks, mapped,
                    java.time.Clock.systemUTC()).recover();
            SingleChronicleQueue queue = recovered.queue();
            DiskGuard guard = new DiskGuard(config.limits(), DiskGuard.usableSpaceOf(config.dir()),
                    ChronicleQueues.usedBytes(queue), nanoClock);
            PageCacheTrim.LibC libc = PageCacheTrim.loadLibC();
            GroupCommitWriter writer = new GroupCommitWriter(queue, config, recovered.sequences(), guard, listener,
                    snapshots, libc, nanoClock);
            writer.start();
            log.info("WAL open at {}: {}", config.dir(), recovered.report());
            SegmentVerifier verifier = new SegmentVerifier(config.dir(), queue.rollCycle(), marks, recovered.marks(),
                    snapshots::writtenThrough);
            return new Wal(config, lockChannel, lock, queue, recovered.sequences(), guard, writer, recovered.report(),
                    mapped, verifier, libc, nanoClock);
        } catch (RuntimeException | IOException e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    /**
     * Appends one batch. The future completes once the outcome is durable at the configured level: PERSISTED,
     * DUPLICATE (already stored; not written again), or REJECTED with a retry-after (disk pressure, shutdown).
     */
    public CompletableFuture<AppendResult> append(BatchHeader header, byte[] batchBytes) {
        return writer.submit(header, batchBytes);
    }

    /**
     * Announces a batch on its way to {@link #append}, from its receipt on, while it is decoded and validated; close
     * the arrival once it is appended, or dropped. At fsync a sync that would start meanwhile waits for it (up to the
     * group commit's linger) so that one sync covers both; see {@link GroupSyncer}.
     */
    public Arrival arriving() {
        writer.arriving();
        return arrival;
    }

    /** A batch announced by {@link #arriving()}; closed once, after its append() or once it is dropped. */
    public interface Arrival extends AutoCloseable {
        @Override
        void close();
    }

    public AgentSequences sequences() {
        return sequences;
    }

    public DiskGuard guard() {
        return guard;
    }

    public WalRecovery.Report recovery() {
        return recovery;
    }

    public WalConfig config() {
        return config;
    }

    /** A new reader positioned at the start. Close it when done: open tailers pin segment files. */
    public WalReader newReader() {
        return new WalReader(queue.createTailer(), sequences, config.dir(), queue.rollCycle(),
                writer::lastIndexAppended,
                index -> divergedFrom.merge(queue.rollCycle().toCycle(index), index, Math::min),
                verifier::seekNeedsCheck, libc, nanoClock).toStart();
    }

    /**
     * Whether a reader may have numbered the record the writer appended at {@code index} differently: it read past
     * damage of unknown extent that appeared in that segment while the intake ran (see {@link WalReader}). What
     * waits on a record's index being confirmed (acks at {@code replicated}) must not trust a confirmation of it
     * until the next start repairs the segment.
     */
    public boolean numberingDiverged(long index) {
        if (divergedFrom.isEmpty()) {
            return false; // always, unless damage appeared under this running intake
        }
        Long from = divergedFrom.get(queue.rollCycle().toCycle(index));
        return from != null && index >= from;
    }

    /**
     * Starts walking every segment's headers in the background, every {@link SegmentVerifier#INTERVAL_MILLIS}, which
     * keeps the marks that bound the next start's walk ({@link SegmentVerifier}, {@link WalkMarks}). The intake
     * calls it once it is ready; a WAL that never calls it is walked whole at every start, as before marks.
     */
    public void verifyInBackground() {
        verifier.start(SegmentVerifier.INTERVAL_MILLIS);
    }

    /** Segment files the background walk found damaged in this run; each is repaired at the next start. */
    public java.util.Set<String> damagedSegments() {
        return verifier.damagedSegments();
    }

    /** The background walk's state; tests run its passes themselves. */
    SegmentVerifier verifier() {
        return verifier;
    }

    /** Batches handed to the writer and not yet committed. */
    public int queuedBatches() {
        return writer.queued();
    }

    /** Pages faulted in ahead of the writer's appends (see {@link PageToucher}); for tests. */
    long pagesTouched() {
        return writer.pagesTouched();
    }

    /** Why the writer stopped and refuses every batch until restart (e.g. a failed sync), or null while it runs. */
    public String writerFailure() {
        return writer.failure();
    }

    /** Writable: the writer runs and the disk guard would take at least a CRITICAL batch. */
    public boolean writable() {
        return writer.healthy() && guard.pressure() != DiskGuard.Pressure.FULL;
    }

    public long lastIndex() {
        return queue.lastIndex();
    }

    /**
     * Records with index from {@code fromInclusive} to {@code toInclusive}, counted through Chronicle's index (cheap:
     * it does not read the records). 0 when the range is empty; -1 when Chronicle cannot count it (e.g. an index
     * in a segment retention has deleted).
     */
    public long countRecords(long fromInclusive, long toInclusive) {
        if (fromInclusive > toInclusive) {
            return 0;
        }
        try {
            return queue.countExcerpts(fromInclusive, toInclusive) + 1;
        } catch (RuntimeException e) {
            // an index Chronicle does not know (not written yet, or retired): within one segment indices are
            // consecutive, so the difference is exact there
            var rc = queue.rollCycle();
            return rc.toCycle(fromInclusive) == rc.toCycle(toInclusive)
                    ? rc.toSequenceNumber(toInclusive) - rc.toSequenceNumber(fromInclusive) + 1 : -1;
        }
    }

    /** Every segment, oldest first. */
    public List<WalSegment> segments() {
        return ChronicleQueues.segments(queue);
    }

    /**
     * Deletes a segment the caller has established is no longer needed (retention: every record forwarded).
     * Refuses the newest segment (the writer's) and any segment Chronicle still has mapped for a reader or writer.
     *
     * @return true when the file was deleted
     */
    public synchronized boolean deleteSegment(WalSegment segment) throws IOException {
        Path file = config.dir().resolve(segment.file());
        if (segment.cycle() >= queue.lastCycle()) {
            return false;
        }
        // Stores closed a moment ago (segments() maps every file to count its records) are unmapped on Chronicle's
        // background releaser: let it finish, so that only a live reader or writer counts as "mapped".
        BackgroundResourceReleaser.releasePendingResources();
        if (mapped.isMapped(file)) {
            return false;
        }
        if (!Files.deleteIfExists(file)) {
            return false;
        }
        guard.onDeleted(segment.usedBytes());
        queue.refreshDirectoryListing();
        log.info("retention deleted WAL segment {} ({} records, {} bytes)", segment.file(), segment.records(),
                segment.usedBytes());
        return true;
    }

    @Override
    public void close() throws IOException {
        verifier.close();
        writer.close();
        queue.close();
        lock.release();
        lockChannel.close();
    }
}
