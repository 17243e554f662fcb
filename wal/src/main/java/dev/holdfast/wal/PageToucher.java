package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.Wire;

/**
 * Write-faults the WAL pages the next appends will fill, one page per call, while the writer has nothing to write.
 *
 * <p>Why: Chronicle's cycle files are sparse, and the first write to each new page of a sparse memory-mapped file is a
 * page fault that the kernel (ext4 here) can hold for as long as a journal commit takes. Measured on this machine
 * ({@code bench/mmap-writes.py}): 100 KiB copied into fresh pages of a sparse mapping took 14–18 ms at p99; into pages
 * faulted in beforehand, 0.03 ms. Those faults were the p99 of an ack at moderate load (docs/BENCHMARKS.md, "Ack
 * latency at moderate load"). Taking them while idle moves them off the acknowledgement path.
 *
 * <p>A touch is a compare-and-swap of 0 for 0 on the first eight bytes of a page, as Chronicle's own {@code
 * MicroToucher} does: it never changes a byte, whatever is there, so it cannot damage a record even if it lands on
 * one. It stays inside the chunk the appender has mapped (no mapping or file growth of its own) and at most {@link
 * #AHEAD} bytes past the last record. Writer thread only: it uses the appender's own bytes.
 */
final class PageToucher {
    static final int PAGE = 4096;
    /** About ten batches of 100 KB: what arrives during a sync at moderate load, and little disk if never used. */
    static final long AHEAD = 1 << 20;

    private BytesStore<?, ?> store;
    private long next;
    private long touched;

    /**
     * Touches the next untouched page within {@link #AHEAD} of the appender's position; false when there is none
     * (all touched, no file yet, or the end of the mapped chunk), so the caller can stop asking until it appends again.
     */
    boolean touchNext(ExcerptAppender appender) {
        Wire wire = appender.wire();
        if (wire == null) {
            return false;
        }
        Bytes<?> bytes = wire.bytes();
        BytesStore<?, ?> current = bytes.bytesStore();
        long end = bytes.writePosition();
        if (current != store) { // a new cycle file or chunk: start again from the position
            store = current;
            next = 0;
        }
        long page = Math.max(next, (end + PAGE - 1) & -PAGE);
        if (current == null || page >= end + AHEAD || !current.inside(page, 8)) {
            return false;
        }
        current.compareAndSwapLong(page, 0, 0);
        next = page + PAGE;
        touched++;
        return true;
    }

    /** Pages touched so far, for tests and the curious. */
    long touched() {
        return touched;
    }
}
