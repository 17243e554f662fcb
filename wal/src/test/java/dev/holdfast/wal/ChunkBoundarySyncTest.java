package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.payload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An acknowledgement at fsync promises that the batch's bytes are on disk, wherever in the file they landed.
 * Chronicle maps a segment in chunks, and an appender's sync() msyncs only the chunk it is writing in now: when a
 * group's records run from one chunk into the next, the records it left behind in the earlier chunk are synced only
 * when the last holder of that chunk lets go of it, and the writer's page toucher (or a reader) can hold it past the
 * acknowledgement. This test looks at the pages themselves: when a group is reported committed (after its sync,
 * before its futures complete), no mapped page of the segment may still be dirty beyond the few that Chronicle's own
 * index and header updates leave.
 */
class ChunkBoundarySyncTest {
    @TempDir
    Path tmp;

    /** Chronicle's index and header updates land behind the synced range: a page or two per chunk. */
    private static final long METADATA_KIB = 16;

    @Test
    void noPageOfAGroupIsLeftDirtyInTheChunkItRanOutOf() throws Exception {
        // 1 MiB chunks, 100 KB records: groups of several records cross a chunk boundary every ten records
        WalConfig config = new WalConfig(tmp.resolve("wal"), true, 0, 8L << 20, "FAST_HOURLY", 1L << 20,
                new DiskGuard.Limits(10L << 30, 0, 0.80, 0.90, 1000), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        AtomicLong worstDirtyKib = new AtomicLong();
        AtomicReference<String> worstAt = new AtomicReference<>("");
        AtomicInteger groups = new AtomicInteger();
        AtomicLong framesSeen = new AtomicLong();
        CommitListener inspect = (batches, events, bytes, stages) -> {
            if (batches == 0) {
                return;
            }
            groups.incrementAndGet();
            try {
                for (String vma : dirtyKibByMapping(tmp.resolve("wal"), framesSeen)) {
                    long kib = Long.parseLong(vma.substring(vma.lastIndexOf(' ') + 1));
                    if (kib > worstDirtyKib.get()) {
                        worstDirtyKib.set(kib);
                        worstAt.set(vma + " after a group of " + batches);
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try (Wal wal = Wal.open(config, inspect)) {
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
                for (int i = 0; i < 40; i++) { // submitted at once: the writer takes them in a few large groups
                    long seq = round * 40L + i + 1;
                    acks.add(wal.append(header("a", seq, BatchPriority.NORMAL), payload("a", seq, 100_000)));
                }
                for (CompletableFuture<AppendResult> ack : acks) {
                    AppendResult r = ack.get(30, TimeUnit.SECONDS);
                    assertEquals(AppendResult.Status.PERSISTED, r.status(), r::toString);
                }
            }
        }
        assertTrue(framesSeen.get() > 0, "no page frame was readable from /proc/self/pagemap: this test needs root, "
                + "as the eBPF tests do");
        assertTrue(groups.get() < 100, "the 200 batches were written in " + groups.get() + " groups: too few "
                + "groups held more than one batch to cross a chunk boundary inside a group");
        assertTrue(worstDirtyKib.get() <= METADATA_KIB, "acknowledged while " + worstDirtyKib.get()
                + " KiB of the segment were still dirty in memory: " + worstAt.get());
    }

    /**
     * For each mapping of a segment of {@code dir} in this process: "segment at offset: dirty KiB", counting the
     * mapped pages whose page-cache page is dirty (kpageflags, through the page's frame from pagemap: root only) and
     * which hold data. Pages the writer's toucher faulted in ahead of the records are dirty too, but all zeros.
     */
    static List<String> dirtyKibByMapping(Path dir, AtomicLong framesSeen) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        try (var pagemap = new java.io.RandomAccessFile("/proc/self/pagemap", "r");
             var kpageflags = new java.io.RandomAccessFile("/proc/kpageflags", "r")) {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 6 || !f[5].startsWith(dir.toString()) || !f[5].endsWith(".cq4")) {
                    continue;
                }
                String[] range = f[0].split("-");
                long start = Long.parseUnsignedLong(range[0], 16);
                long end = Long.parseUnsignedLong(range[1], 16);
                long fileOffset = Long.parseUnsignedLong(f[2], 16);
                long kib = 0;
                try (var file = new java.io.RandomAccessFile(f[5], "r")) {
                    byte[] page = new byte[4096];
                    for (long va = start; va < end; va += 4096) {
                        long entry = word(pagemap, va / 4096 * 8);
                        long pfn = entry & ((1L << 55) - 1);
                        if (entry >= 0 || pfn == 0) { // bit 63: present; a frame of 0: not root
                            continue;
                        }
                        framesSeen.incrementAndGet();
                        if ((word(kpageflags, pfn * 8) & (1L << 4)) == 0) { // KPF_DIRTY
                            continue;
                        }
                        long at = fileOffset + (va - start);
                        if (at + page.length > file.length()) {
                            continue;
                        }
                        file.seek(at);
                        file.readFully(page);
                        for (byte b : page) {
                            if (b != 0) {
                                kib += 4;
                                break;
                            }
                        }
                    }
                }
                out.add(Path.of(f[5]).getFileName() + " at offset 0x" + f[2] + ": dirty KiB " + kib);
            }
        }
        return out;
    }

    /** One little-endian 64-bit word of a /proc file that is read 8 bytes at a time, never byte by byte. */
    private static long word(java.io.RandomAccessFile f, long at) throws java.io.IOException {
        byte[] b = new byte[8];
        f.seek(at);
        if (f.read(b, 0, 8) != 8) {
            throw new java.io.IOException("short read of " + f + " at " + at);
        }
        return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
