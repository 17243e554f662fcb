package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.Wire;
import net.openhft.posix.MAdviseFlag;
import net.openhft.posix.PosixAPI;

import java.io.File;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Write-faults, from a thread of its own, the WAL pages the writer's next appends will fill.
 *
 * <p>Why: Chronicle's cycle files are sparse, and the first write to each new page of a sparse memory-mapped file is a
 * page fault that the kernel (ext4 here) can hold for as long as a journal commit takes. Measured on this machine
 * ({@code bench/mmap-writes.py}): 100 KiB copied into fresh pages of a sparse mapping took 14–18 ms at p99; into pages
 * faulted in beforehand, 0.03 ms. On the writer's thread those faults, or touches made there while it was idle, were
 * what a batch queued behind (docs/BENCHMARKS.md, "Ack latency at moderate load").
 *
 * <p>A touch is a compare-and-swap of 0 for 0 on the first eight bytes of a page, as Chronicle's own {@code
 * MicroToucher} does. It never changes a byte: where the writer has already written, the comparison fails; where it
 * writes at the same moment, the atomic swap and its store are ordered one way or the other and its bytes stay. So it
 * is safe beside the writer, even on a page the writer is filling. It stays inside the chunk the appender has mapped
 * (no mapping or file growth of its own) and at most {@link #AHEAD} bytes past the last record. While it touches a
 * chunk it holds a reference on it, so the appender moving on (next chunk, next cycle file) cannot unmap it under a
 * touch; once it has nothing to touch it lets go, so it never keeps a segment from retention.
 *
 * <p>While the writer is not writing fast, its chunks are advised {@code MADV_RANDOM}, so that these faults bring in 4 KiB
 * pages instead of readahead's large folios, which each msync would write back whole ({@link #adviseNoReadahead}).
 *
 * <p>Behind the writer it does the opposite: pages more than {@link #BEHIND} bytes behind the last record leave the
 * process's mapping ({@link ResidentWindow}), so the writer's chunk does not stay resident as it fills, and further
 * behind they leave the page cache too ({@link PageCacheTrim}).
 */
final class PageToucher implements AutoCloseable {
    static final int PAGE = 4096;
    /** About ten batches of 100 KB: what arrives during a sync at moderate load, and little disk if never used. */
    static final long AHEAD = 1 << 20;
    /**
     * How far behind the last record the writer's pages stay mapped in: the forwarder's live tailer reads there,
     * mostly within a few batches of the writer.
     */
    static final long BEHIND = 8L << 20;
    /**
     * The writer's rate (bytes a second through its last chunk) below which its next chunk gets 4 KiB folios. Below it
     * large folios cost in writes: a small group's msync writes back the 2 MiB folio around it (17 times the records
     * at 80k events/s). Above it 4 KiB folios cost in page faults, one per page instead of one per folio: at 500 MB/s
     * that halved what the intake acknowledged at fsync (docs/BENCHMARKS.md, "Each sync writes its group").
     */
    static final long SMALL_FOLIOS_BELOW_BYTES_PER_SECOND = 128L << 20;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final ReferenceOwner owner = ReferenceOwner.temporary("wal-page-toucher");
    /** Guards {@link #store} and {@link #next}; the writer only ever tries it, so it never waits on a touch. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Thread thread = new Thread(this::run, "wal-page-toucher");
    /** The chunk being touched, reserved by {@link #owner}; null before the first record. */
    private BytesStore<?, ?> store;
    /**
     * The chunk the writer left last, still reserved: this thread drops what of it is still mapped behind the writer
     * ({@link ResidentWindow#left}), then lets go of it.
     */
    private BytesStore<?, ?> left;
    private long next;
    /** The file {@link #store} is a chunk of. */
    private File file;
    private final ResidentWindow behind = new ResidentWindow(BEHIND);
    private final PageCacheTrim cached;
    private final LongSupplier nanoClock;
    /** The writer's chunk last seen by {@link #follow}, compared by identity only. Writer thread only. */
    private BytesStore<?, ?> entered;
    /** When and where the writer entered {@link #entered}. Writer thread only. */
    private long enteredAtNanos;
    private long enteredAtPosition;
    /** Chunks advised {@code MADV_RANDOM} so far. */
    private volatile long smallFolioChunks;
    /** The end of the last record the writer appended. */
    private volatile long end;
    private volatile boolean running = true;
    private volatile long touched;

    /**
     * @param libc      for {@link PageCacheTrim}; null: the writer's pages are left in the page cache
     * @param nanoClock monotonic, for the writer's rate through a chunk
     */
    PageToucher(PageCacheTrim.LibC libc, LongSupplier nanoClock) {
        this.cached = new PageCacheTrim(libc, PageCacheTrim.WRITER_KEEP);
        this.nanoClock = nanoClock;
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /**
     * Writer thread, after appending: where the next records go. When the appender has moved to another chunk, the
     * toucher moves with it, unless it is in the middle of a touch; then it follows after the writer's next group.
     */
    void follow(ExcerptAppender appender) {
        Wire wire = appender.wire();
        if (wire == null) {
            return;
        }
        Bytes<?> bytes = wire.bytes();
        BytesStore<?, ?> current = bytes.bytesStore();
        if (current != entered && current != null) {
            enter(current, bytes.writePosition()); // at once, on this thread: the writer holds the chunk, fills it next
        }
        if (current != store && current != null && lock.tryLock()) {
            try {
                if (current.tryReserve(owner)) {
                    releaseLeft(); // the previous one this thread has not had a turn to see to
                    left = store;
                    store = current;
                    file = appender.currentFile();
                    next = 0;
                }
            } finally {
                lock.unlock();
            }
        }
        end = bytes.writePosition();
        LockSupport.unpark(thread);
    }

    /**
     * Writer thread, after each record of a group: how far the records go now. A touch never goes below it, so the
     * toucher does not fault again a page the writer has filled and synced meanwhile (its content would not change,
     * but the page would be dirty again and written back a second time).
     */
    void advanced(long position) {
        end = position;
    }

    /**
     * The writer has moved into {@code chunk}, at {@code position}: advises it {@code MADV_RANDOM} unless the writer
     * went through the chunk before it at {@link #SMALL_FOLIOS_BELOW_BYTES_PER_SECOND} or more. The first chunk after
     * a start is advised: a moderate rate is the common case, and a wrong guess costs one chunk at a fast writer.
     */
    private void enter(BytesStore<?, ?> chunk, long position) {
        long now = nanoClock.getAsLong();
        boolean small = true;
        if (entered != null) {
            // a new file's first chunk: positions start again, so the rate is not known, as after a start
            long bytes = position - enteredAtPosition;
            long nanos = Math.max(1, now - enteredAtNanos);
            small = bytes <= 0 || bytes * 1_000_000_000.0 / nanos < SMALL_FOLIOS_BELOW_BYTES_PER_SECOND;
        }
        entered = chunk;
        enteredAtNanos = now;
        enteredAtPosition = position;
        if (small && adviseNoReadahead(chunk, position)) {
            smallFolioChunks++;
        }
    }

    /**
     * Marks a mapped chunk {@code MADV_RANDOM} from the writer's page to its end: a page fault there then reads in (here:
     * allocates and zeroes) that one page, with no readahead around it.
     *
     * <p>Why: readahead on a file mapping grows the page-cache folios it allocates, window by window, up to 2 MiB, and
     * the toucher's faults are as sequential as faults get. A folio is dirtied and written back whole. So each msync of
     * a 100 KB group wrote the whole 2 MiB folio around it, once for every group written into that folio: measured here
     * (kernel 6.18, ext4, 8 MiB readahead), 3.7 GB sent to the disk for 220 MB of records, 17 times over, with msync's
     * p50 twice as long (bench/msync-folios.py).
     *
     * <p>Only from the writer's page on: before it (after a restart, the rest of the chunk recovery found) are records
     * a reader sharing this mapping may read from the disk, with readahead.
     *
     * @return whether the kernel took the advice
     */
    private static boolean adviseNoReadahead(BytesStore<?, ?> chunk, long position) {
        if (!chunk.isDirectMemory()) {
            return false;
        }
        long from = Math.max(position & -PAGE, (chunk.start() + PAGE - 1) & -PAGE);
        long to = chunk.realCapacity() & -PAGE; // the whole mapping, overlap included: the toucher goes there too
        if (to <= from || !chunk.inside(from, to - from)) {
            return false;
        }
        return PosixAPI.posix().madvise(chunk.addressForRead(from), to - from, MAdviseFlag.MADV_RANDOM) == 0;
    }

    /** Chunks the writer entered that were advised {@code MADV_RANDOM}, for tests and the curious. */
    long smallFolioChunks() {
        return smallFolioChunks;
    }

    /** Touches the next untouched page within {@link #AHEAD} of the last record; false when there is none. */
    boolean touchNext() {
        lock.lock();
        try {
            long last = end;
            long page = Math.max(next, (last + PAGE - 1) & -PAGE);
            if (store == null || page >= last + AHEAD || !store.inside(page, 8)) {
                return false;
            }
            store.compareAndSwapLong(page, 0, 0);
            next = page + PAGE;
            touched++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the writer's pages more than {@link #BEHIND} behind its last record from the mapping, and those more than
     * {@link PageCacheTrim#WRITER_KEEP} behind from the page cache; false when there were too few of either.
     */
    boolean dropBehind() {
        lock.lock();
        try {
            if (left != null && end >= left.realCapacity()) {
                // only once the writer is past the chunk's overlap with the next: until then Chronicle may still
                // write there through this chunk (measured: its last 16 MiB were mapped in again after the switch)
                behind.left(left);
                releaseLeft();
                return true;
            }
            if (store == null) {
                return false;
            }
            boolean unmapped = behind.passed(store, end);
            boolean uncached = file != null && cached.passed(file, end);
            return unmapped || uncached;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes behind the writer advised out of the page cache so far. */
    long uncachedBytes() {
        lock.lock();
        try {
            return cached.advisedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** Pages touched so far, for tests and the curious. */
    long touched() {
        return touched;
    }

    /** Bytes behind the writer dropped from the mapping so far. */
    long droppedBytes() {
        lock.lock();
        try {
            return behind.droppedBytes();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (running) {
            if (!touchNext() && !dropBehind()) {
                // done until the writer appends again: hold no chunk meanwhile, so that a segment the writer has
                // left can be unmapped and deleted by retention (the writer's next follow reserves again); the chunk
                // it left last is unmapped first, overlap and all, though Chronicle may map some of that again
                lock.lock();
                try {
                    if (left != null) {
                        behind.left(left);
                    }
                    release();
                } finally {
                    lock.unlock();
                }
                LockSupport.parkNanos(this, IDLE_NANOS);
            }
        }
    }

    /** Stops touching and lets go of the chunk. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            release();
        } finally {
            lock.unlock();
        }
    }

    private void releaseLeft() {
        if (left != null) {
            left.release(owner);
            left = null;
        }
    }

    private void release() {
        releaseLeft();
        if (store != null) {
            store.release(owner);
            store = null; // the window keeps its place: the writer's next follow usually reserves the same chunk
        }
    }
}
