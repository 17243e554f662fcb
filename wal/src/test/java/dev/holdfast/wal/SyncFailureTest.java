package dev.holdfast.wal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.payload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A disk that fails writes: an ext4 file system on a loop device whose backing file lives in a tmpfs too small for
 * it, so once the tmpfs is full every write to a new block fails (root only, as the eBPF tests are). The writeback of
 * the WAL's pages then fails and msync reports it, once; the kernel marks the pages clean, and a later msync of them
 * succeeds although they never reached the disk.
 *
 * <p>Chronicle's own sync logs a failed msync and carries on, so the WAL used to acknowledge every batch as
 * persisted while the disk held a fraction of them. Now the first failed sync refuses its batches and every batch
 * after, and the WAL says it is not writable.
 */
class SyncFailureTest {
    private static final long BACKING_MIB = 24;

    @TempDir
    Path tmp;
    private Path backing;
    private Path disk;
    private String loop;

    @AfterEach
    void detach() throws Exception {
        if (disk != null) {
            run(false, "umount", "-l", disk.toString());
        }
        if (loop != null) {
            run(false, "losetup", "-d", loop);
        }
        if (backing != null) {
            run(false, "umount", "-l", backing.toString());
        }
    }

    /** Mounts the failing disk; returns it. Blocks allocated beyond about {@code BACKING_MIB} fail with an I/O error. */
    private Path failingDisk() throws Exception {
        backing = Files.createDirectories(tmp.resolve("backing"));
        disk = Files.createDirectories(tmp.resolve("disk"));
        run(true, "mount", "-t", "tmpfs", "-o", "size=" + BACKING_MIB + "m", "tmpfs", backing.toString());
        Path image = backing.resolve("disk.img");
        run(true, "truncate", "-s", "128M", image.toString());
        loop = run(true, "losetup", "-f", "--show", image.toString()).strip();
        // what mkfs would otherwise write lazily, after mounting, is written now (few inodes, so it is 4-5 MiB): the
        // space left is the WAL's
        run(true, "mkfs.ext4", "-q", "-F", "-N", "256", "-E", "lazy_itable_init=0,lazy_journal_init=0", loop);
        run(true, "mount", loop, disk.toString());
        return disk;
    }

    @Test
    void aFailedMsyncRefusesItsBatchesAndEveryBatchAfterIt() throws Exception {
        Path dir = failingDisk().resolve("wal");
        WalConfig d = WalConfig.defaults(dir, true);
        WalConfig config = new WalConfig(dir, true, 0, d.groupCommitMaxBytes(), d.rollCycle(), 1L << 20,
                new DiskGuard.Limits(10L << 30, 0, 0.99, 0.999, 1000), d.snapshotIntervalMillis());
        int batchBytes = 200 << 10;
        List<AppendResult> answers = new ArrayList<>();
        boolean writableAfterFailure;
        try (Wal wal = Wal.open(config, CommitListener.NONE)) {
            for (int seq = 1; seq <= 20 * BACKING_MIB; seq++) { // about four times what the disk can take
                answers.add(wal.append(header("f", seq, BatchPriority.NORMAL), payload("f", seq, batchBytes))
                        .get(30, TimeUnit.SECONDS));
            }
            writableAfterFailure = wal.writable();
            String failure = wal.writerFailure();
            assertTrue(failure != null && failure.contains("msync"), "the WAL names why it stopped: " + failure);
        }
        int persisted = 0;
        int firstRefused = -1;
        for (int i = 0; i < answers.size(); i++) {
            AppendResult a = answers.get(i);
            if (a.status() == AppendResult.Status.PERSISTED) {
                assertEquals(-1, firstRefused, "batch " + (i + 1) + " was acknowledged after batch " + (firstRefused + 1)
                        + " was refused for a failed sync");
                persisted++;
            } else {
                assertEquals(AppendResult.Status.REJECTED, a.status(), a::toString);
                if (firstRefused < 0) {
                    firstRefused = i;
                    assertTrue(a.message().contains("sync failed"), a::toString);
                }
            }
        }
        assertTrue(firstRefused > 0, "every one of " + answers.size() + " batches of " + batchBytes / 1024
                + " KiB was acknowledged by a disk that can hold " + BACKING_MIB + " MiB");
        assertTrue((long) persisted * batchBytes < BACKING_MIB << 20, persisted + " batches acknowledged: more than the "
                + "disk can hold");
        assertFalse(writableAfterFailure, "the WAL still says it is writable after a failed sync");
    }

    private static String run(boolean check, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish");
        }
        if (check && p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + ", this test needs "
                    + "root, as the eBPF tests do): " + out.strip());
        }
        return out;
    }
}
