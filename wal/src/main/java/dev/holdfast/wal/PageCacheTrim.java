package dev.holdfast.wal;

import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;

/**
 * Keeps one pass over the WAL (the writer, or a reader) from filling the kernel's page cache: the pages of a segment
 * file more than {@code keep} bytes behind it leave the page cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)}),
 * {@link #STEP} at a time.
 *
 * <p>Why: every new page of the WAL is a page-cache page the kernel allocates and zeroes before the writer fills it.
 * While the cache keeps growing, those pages come from memory that has been free for a while, and on a virtual
 * machine such memory is slow to touch again (the host has taken it back, or never gave it): at full load, zeroing
 * new WAL pages in page faults took about half of this 2-core machine's CPU (docs/BENCHMARKS.md, "The WAL's pages
 * out of the page cache"). Pages let go of right behind the writer are what the kernel hands out next, and those are
 * cheap. It also keeps a stream written once and read once from pushing everything else on the node out of the
 * cache. A reader trims behind itself too: what it reads from the disk (a backlog older than the writer's
 * {@link #WRITER_KEEP}) would otherwise fill the cache the same way.
 *
 * <p>Why it is safe: the kernel drops only clean pages that no process maps. A dirty page (not yet written back, at
 * {@code written} durability) is only queued for writeback and stays; a page a reader still maps stays. A reader that
 * comes later than {@link #WRITER_KEEP} behind the writer, or after another reader, reads the file from the disk, as
 * it does after a restart. So the advice costs a reader some speed at worst, never a byte. Each range is advised twice, the second time one step
 * later, so that pages which were dirty the first time (and are written back meanwhile) go too.
 *
 * <p>Where {@code posix_fadvise} cannot be called (no libc found), it does nothing, and says so once.
 *
 * <p>Not thread-safe: one per pass, used by the thread that follows the writer ({@link PageToucher}) or by the
 * reader's.
 */
final class PageCacheTrim {
    private static final Logger log = LoggerFactory.getLogger(PageCacheTrim.class);
    /**
     * Bytes behind the writer's last record that stay cached: the forwarder's live lane reads there, normally within a
     * few batches of the writer, and the segment verifier's marks follow there ({@link SegmentVerifier}); at full
     * load (500 MB/s) this is half a second.
     */
    static final long WRITER_KEEP = 256L << 20;
    /** Bytes behind a reader that stay cached: it does not go back unless told to seek. */
    static final long READER_KEEP = 8L << 20;
    /** About 100 calls a second at 200 MB/s. */
    static final long STEP = 2L << 20;
    private static final int PAGE = 4096;
    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;

    /** The three libc calls, bound by jnr-ffi (which Chronicle's posix API already loads). */
    public interface LibC {
        int open(String path, int flags);

        int close(int fd);

        int posix_fadvise(int fd, long offset, long length, int advice);
    }

    private final LibC libc;
    private final long keep;
    private File file;
    /** Everything of {@link #file} before this offset has been advised at least once. */
    private long advised;
    /** Where the last advice started: the next one starts there again. */
    private long lastFrom;
    private long advisedBytes;

    /**
     * @param libc the calls, or null to do nothing
     * @param keep bytes behind the pass that stay cached
     */
    PageCacheTrim(LibC libc, long keep) {
        this.libc = libc;
        this.keep = keep;
    }

    /** libc's calls, or null (after saying why, once) where they cannot be bound. */
    static LibC loadLibC() {
        try {
            return LibraryLoader.create(LibC.class).load("c");
        } catch (LinkageError | RuntimeException e) {
            log.info("posix_fadvise is not available ({}); WAL pages behind the writer stay in the page cache", e
                    .toString());
            return null;
        }
    }

    /**
     * The pass is at {@code position} in {@code file}: advises the kernel to drop what lies more than {@code keep}
     * behind it, once that is at least {@link #STEP}.
     *
     * @return whether it advised anything
     */
    boolean passed(File file, long position) {
        if (!file.equals(this.file)) {
            this.file = file;
            advised = 0;
            lastFrom = 0;
        }
        long to = (position - keep) & -PAGE;
        if (libc == null || to - advised < STEP) {
            return false;
        }
        int fd = libc.open(file.getPath(), O_RDONLY);
        if (fd >= 0) {
            try {
                if (libc.posix_fadvise(fd, lastFrom, to - lastFrom, POSIX_FADV_DONTNEED) == 0) {
                    advisedBytes += to - advised;
                }
            } finally {
                libc.close(fd);
            }
        }
        lastFrom = advised;
        advised = to; // even if refused (the file gone, say): it would be refused again, and cached pages are harmless
        return true;
    }

    /** Bytes advised out of the page cache so far (the kernel keeps what is dirty or mapped). */
    long advisedBytes() {
        return advisedBytes;
    }
}
