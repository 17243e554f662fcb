package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.Wire;
import net.openhft.posix.MAdviseFlag;
import net.openhft.posix.PosixAPI;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

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
 * <p>Behind the writer it does the opposite: pages more than {@link #BEHIND} bytes behind the last record are taken
 * out of the process's mapping ({@code madvise(MADV_DONTNEED)}), so the writer's chunk (blockSize plus its overlap,
 * 80 MiB by default) does not stay resident in the intake as it fills. On a shared file mapping that only drops the
 * page-table entries: the pages stay in the page cache and the file, a dirty page stays dirty (so the writer's msync
 * and the kernel's writeback still write it), and a reader or the writer touching one again (an index slot, the
 * forwarder's live tailer) faults it back in from the page cache.
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
    /** Pages are dropped in steps of this much: at full load (150 MB/s) about 75 madvise calls a second. */
    static final long DROP_STEP = 2L << 20;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final ReferenceOwner owner = ReferenceOwner.temporary("wal-page-toucher");
    /** Guards {@link #store} and {@link #next}; the writer only ever tries it, so it never waits on a touch. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Thread thread = new Thread(this::run, "wal-page-toucher");
    /** The chunk being touched, reserved by {@link #owner}; null before the first record. */
    private BytesStore<?, ?> store;
    private long next;
    /** Everything of {@link #store} before this offset has been dropped from the mapping. */
    private long dropped;
    /** The end of the last record the writer appended. */
    private volatile long end;
    private volatile boolean running = true;
    private volatile long touched;
    private volatile long droppedBytes;

    PageToucher() {
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
        if (current != store && current != null && lock.tryLock()) {
            try {
                if (current.tryReserve(owner)) {
                    release();
                    store = current;
                    next = 0;
                    dropped = 0;
                }
            } finally {
                lock.unlock();
            }
        }
        end = bytes.writePosition();
        LockSupport.unpark(thread);
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
     * Drops the pages more than {@link #BEHIND} behind the last record from the mapping, once there are at least
     * {@link #DROP_STEP} of them; false when there were not.
     */
    boolean dropBehind() {
        lock.lock();
        try {
            if (store == null) {
                return false;
            }
            long from = Math.max(dropped, (store.start() + PAGE - 1) & -PAGE);
            long to = (end - BEHIND) & -PAGE;
            if (to - from < DROP_STEP || !store.inside(from, to - from)) {
                return false;
            }
            int rc = PosixAPI.posix().madvise(store.addressForRead(from), to - from, MAdviseFlag.MADV_DONTNEED);
            dropped = to; // even if refused: an error here would be refused again, and resident pages are harmless
            if (rc == 0) {
                droppedBytes += to - from;
            }
            return true;
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
        return droppedBytes;
    }

    private void run() {
        while (running) {
            if (!touchNext() && !dropBehind()) {
                // done until the writer appends again: hold no chunk meanwhile, so that a segment the writer has
                // left can be unmapped and deleted by retention (the writer's next follow reserves again)
                lock.lock();
                try {
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

    private void release() {
        if (store != null) {
            store.release(owner);
            store = null;
        }
    }
}
