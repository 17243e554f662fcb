package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.Wire;

import java.io.File;
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
    /** The end of the last record the writer appended. */
    private volatile long end;
    private volatile boolean running = true;
    private volatile long touched;

    /** @param libc for {@link PageCacheTrim}; null: the writer's pages are left in the page cache */
    PageToucher(PageCacheTrim.LibC libc) {
        this.cached = new PageCacheTrim(libc, PageCacheTrim.WRITER_KEEP);
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
