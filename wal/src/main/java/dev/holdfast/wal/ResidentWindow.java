package dev.holdfast.wal;

import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.posix.MAdviseFlag;
import net.openhft.posix.PosixAPI;

/**
 * Keeps one sequential pass over the WAL (the writer, or a reader) from leaving the chunks it passes resident in the
 * process: pages more than {@code keep} bytes behind its position are taken out of the mapping with {@code
 * madvise(MADV_DONTNEED)}, {@link #STEP} at a time.
 *
 * <p>Why: Chronicle maps a segment in chunks of blockSize plus an overlap (80 MiB by default), and every page a pass
 * touches stays in the process's resident set until the whole chunk is unmapped. With the writer and the forwarder's
 * two lanes each in a chunk of their own, that was 240 MiB of the intake's peak RSS (docs/BENCHMARKS.md, "Memory").
 *
 * <p>Why it is safe: on a shared file mapping {@code MADV_DONTNEED} only drops page-table entries. The pages stay in
 * the page cache and in the file; a dirty page stays dirty, so an msync of its range and the kernel's writeback
 * still write it; and whoever touches one again (another pass over the same chunk, the writer filling an index slot)
 * faults it back in from the page cache, bytes intact.
 *
 * <p>Not thread-safe: one per pass, used by the thread that holds the chunk it is given.
 */
final class ResidentWindow {
    static final int PAGE = 4096;
    /** At full load (150 MB/s) about 75 madvise calls a second for the writer. */
    static final long STEP = 2L << 20;

    private final long keep;
    /**
     * The chunk passed last, compared by identity only: its owner keeps it mapped while it is passed, and once let go
     * of it is only a small object, never read through here again.
     */
    private BytesStore<?, ?> store;
    /** Everything of {@link #store} before this offset has been dropped. */
    private long dropped;
    private long droppedBytes;

    /** @param keep bytes behind the position that stay mapped in */
    ResidentWindow(long keep) {
        this.keep = keep;
    }

    /**
     * The pass is at {@code position} in {@code store}, a mapped chunk its caller holds: drops what lies more than
     * {@code keep} behind it, once that is at least {@link #STEP}.
     *
     * @return whether it dropped anything
     */
    boolean passed(BytesStore<?, ?> store, long position) {
        if (store != this.store) {
            this.store = store;
            dropped = 0;
        }
        if (store == null || !store.isDirectMemory()) {
            return false;
        }
        long from = Math.max(dropped, (store.start() + PAGE - 1) & -PAGE);
        long to = (position - keep) & -PAGE;
        if (to - from < STEP || !store.inside(from, to - from)) {
            return false;
        }
        drop(store, from, to);
        dropped = to; // even if refused: it would be refused again, and pages left resident are harmless
        return true;
    }

    /**
     * The pass has moved on from {@code chunk} (it holds it still) into the next one: drops all of it that is still
     * mapped in, from where {@link #passed} got to if it was passing this chunk, else from its start. The pass goes on
     * through the next chunk, which maps the overlap again, so nothing here is needed any more; whoever still reads
     * through this chunk faults pages back in from the page cache. Needed because a chunk can stay mapped after every
     * pass has left it: Chronicle keeps a file's first chunk mapped for the file's header as long as the file is open,
     * and the pages of it that stay mapped cannot leave the page cache either ({@link PageCacheTrim}).
     *
     * @return whether it dropped anything
     */
    boolean left(BytesStore<?, ?> chunk) {
        if (chunk == null || !chunk.isDirectMemory()) {
            return false;
        }
        long from = (Math.max(chunk == store ? dropped : 0, chunk.start()) + PAGE - 1) & -PAGE;
        long to = chunk.realCapacity() & -PAGE; // the end of the mapping, overlap included
        if (to <= from || !chunk.inside(from, to - from)) {
            return false;
        }
        drop(chunk, from, to);
        return true;
    }

    /** Takes {@code [from, to)} of a mapped chunk out of the mapping, counting it if the kernel did. */
    private void drop(BytesStore<?, ?> chunk, long from, long to) {
        if (PosixAPI.posix().madvise(chunk.addressForRead(from), to - from, MAdviseFlag.MADV_DONTNEED) == 0) {
            droppedBytes += to - from;
        }
    }

    /** Bytes dropped from mappings so far. */
    long droppedBytes() {
        return droppedBytes;
    }
}
