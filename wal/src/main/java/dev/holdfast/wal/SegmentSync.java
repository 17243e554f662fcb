package dev.holdfast.wal;

import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.posix.MSyncFlag;
import net.openhft.posix.PosixAPI;

import java.io.SyncFailedException;

/**
 * msync of a range of a mapped segment chunk that reports failure.
 *
 * <p>Why not Chronicle's own {@code syncUpTo}: it logs a failed msync and returns as if it had succeeded. A failed
 * writeback is reported once; the kernel then marks the pages clean, so a later msync succeeds without the data ever
 * reaching the disk (measured here: ENOSPC from a loop device, then 0 for the same pages). Acknowledging after that
 * would promise what the disk does not hold.
 */
final class SegmentSync {
    private static final long PAGE = 4096;

    private SegmentSync() {
    }

    /**
     * Writes the pages of {@code chunk} holding file positions {@code [from, to)} to the disk and waits for it. The
     * range is clamped to the chunk's whole mapping, which ends past its {@code safeLimit()}: Chronicle maps each chunk
     * with an overlap into the next, and a record that starts near a chunk's end is written on into that overlap.
     */
    static void sync(BytesStore<?, ?> chunk, long from, long to) throws SyncFailedException {
        long lo = Math.max(chunk.start(), from & -PAGE);
        long hi = Math.min(chunk.realCapacity(), (to + PAGE - 1) & -PAGE);
        if (hi <= lo) {
            return;
        }
        PosixAPI posix = PosixAPI.posix();
        if (posix.msync(chunk.addressForRead(lo), hi - lo, MSyncFlag.MS_SYNC) != 0) {
            throw new SyncFailedException("msync of " + (hi - lo) + " bytes at file position " + lo + " failed: "
                    + posix.lastErrorStr());
        }
    }

    /**
     * Fails unless msync really reaches the kernel. Chronicle falls back to a no-op POSIX binding when its native one
     * cannot load, and that one "succeeds" at every msync; a misaligned address is refused by the real call (EINVAL).
     */
    static void requireWorkingMsync() {
        if (PosixAPI.posix().msync(PAGE + 1, PAGE, MSyncFlag.MS_SYNC) == 0) {
            throw new IllegalStateException("msync is not available (Chronicle's POSIX binding fell back to a no-op):"
                    + " fsync durability cannot be honoured; fix the native binding or run at durability 'written'");
        }
    }
}
