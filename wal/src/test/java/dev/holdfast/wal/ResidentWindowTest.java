package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.holdfast.wal.WalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** The writer's side is in {@link PageToucherTest}; this is a reader's. */
class ResidentWindowTest {
    @TempDir
    Path tmp;

    /** A reader passing through the WAL leaves only its last pages resident, not each chunk it has read. */
    @Test
    void aReaderLeavesOnlyItsLastPagesResident() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("wal"), false);
        try (Wal wal = Wal.open(config, CommitListener.NONE)) {
            List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
            for (int seq = 1; seq <= 300; seq++) { // 30 MB
                appends.add(wal.append(header("a", seq, BatchPriority.NORMAL), payload("a", seq, 100_000)));
            }
            for (var a : appends) {
                assertEquals(AppendResult.Status.PERSISTED, a.get().status());
            }
        }
        try (Wal wal = Wal.open(config, CommitListener.NONE)) { // a new mapping: nothing resident but what opening read
            Path file = Files.list(config.dir()).filter(f -> f.toString().endsWith(".cq4"))
                    .findFirst().orElseThrow().toRealPath();
            long before = residentKib(file);
            int read = 0;
            try (WalReader r = wal.newReader()) {
                WalReader.Entry e;
                while ((e = r.next()) != null) {
                    assertArrayEquals(payload("a", read + 1, 100_000),
                            assertInstanceOf(WalReader.Valid.class, e).record().payload());
                    read++;
                }
                long after = residentKib(file);
                assertEquals(300, read);
                // the reader's last megabyte and the step it drops by, besides what was resident before it read
                long bound = before + ((WalReader.READ_BEHIND + ResidentWindow.STEP) >> 10) + 1024;
                assertTrue(after <= bound, "resident " + before + " KiB before reading 29 MiB, " + after
                        + " KiB after (at most " + bound + ")");
            }
        }
    }

    /**
     * A reader reading a WAL from the disk leaves only its last pages in the page cache, not everything it has read
     * (as util-linux's fincore counts them).
     */
    @Test
    void aReaderLeavesOnlyItsLastPagesInThePageCache() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("wal"), true);
        try (Wal wal = Wal.open(config, CommitListener.NONE)) {
            List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
            for (int seq = 1; seq <= 250; seq++) { // 250 MB, synced: clean pages
                appends.add(wal.append(header("a", seq, BatchPriority.NORMAL), payload("a", seq, 1_000_000)));
            }
            for (var a : appends) {
                assertEquals(AppendResult.Status.PERSISTED, a.get().status());
            }
        }
        Path file = Files.list(config.dir()).filter(f -> f.toString().endsWith(".cq4"))
                .findFirst().orElseThrow().toRealPath();
        PageCacheTrim.LibC libc = PageCacheTrim.loadLibC();
        assertNotNull(libc, "libc's posix_fadvise binds on Linux");
        int fd = libc.open(file.toString(), 0);
        assertEquals(0, libc.posix_fadvise(fd, 0, 0, 4), "the whole file out of the cache before reading");
        libc.close(fd);
        try (Wal wal = Wal.open(config, CommitListener.NONE); WalReader r = wal.newReader()) {
            int read = 0;
            WalReader.Entry e;
            while ((e = r.next()) != null) {
                assertArrayEquals(payload("a", read + 1, 1_000_000),
                        assertInstanceOf(WalReader.Valid.class, e).record().payload());
                read++;
            }
            assertEquals(250, read);
            long cached = cachedKib(file);
            // what the reader keeps, two steps, and what the kernel reads ahead of it (8 MiB on this machine's disk)
            long bound = (PageCacheTrim.READER_KEEP + 2 * PageCacheTrim.STEP + (16L << 20)) >> 10;
            assertTrue(cached <= bound, "cached " + cached + " KiB after reading 250 MB (at most " + bound + ")");
        }
    }
}
