package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.payload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An acknowledgement at fsync promises that the batch's bytes are on disk, wherever in the file they landed.
 * Chronicle maps a segment in chunks, and an appender's sync() msyncs only the chunk it is writing in now: when a
 * group's records run from one chunk into the next, the records it left behind in the earlier chunk are synced only
 * when the last holder of that chunk lets go of it, and the writer's page toucher (or a reader) can hold it past the
 * acknowledgement. This test looks at the pages themselves: when a commit is reported (after its sync, before its
 * batches are answered), no mapped page of the segment holding only batches it acknowledges may still be dirty. The
 * writer goes on appending meanwhile, so pages (folios) holding a later batch may be dirty, and are left out.
 */
class ChunkBoundarySyncTest {
    @TempDir
    Path tmp;

    @Test
    void noPageOfAGroupIsLeftDirtyInTheChunkItRanOutOf() throws Exception {
        // 1 MiB chunks, 100 KB records: groups of several records cross a chunk boundary every ten records
        WalConfig config = new WalConfig(tmp.resolve("wal"), true, 0, 8L << 20, "FAST_HOURLY", 1L << 20,
                new DiskGuard.Limits(10L << 30, 0, 0.80, 0.90, 1000), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        List<String> dirtyAcknowledged = new CopyOnWriteArrayList<>();
        AtomicInteger commits = new AtomicInteger();
        AtomicLong acknowledged = new AtomicLong(); // one agent, seqs from 1, appended in order: the highest seq
        AtomicLong framesSeen = new AtomicLong();
        CommitListener inspect = (batches, events, bytes, stages) -> {
            if (batches == 0) {
                return;
            }
            commits.incrementAndGet();
            long through = acknowledged.addAndGet(batches);
            try {
                for (String page : dirtyPagesHoldingOnlyBatchesThrough(tmp.resolve("wal"), "a", through, framesSeen)) {
                    dirtyAcknowledged.add(page + " when batches 1.." + through + " were acknowledged");
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
        assertTrue(commits.get() < 100, "the 200 batches were synced in " + commits.get() + " commits: too few "
                + "held more than one batch to cross a chunk boundary inside one");
        assertTrue(dirtyAcknowledged.isEmpty(), dirtyAcknowledged.size() + " folios of acknowledged data were still dirty in "
                + "memory, e.g. " + dirtyAcknowledged.subList(0, Math.min(3, dirtyAcknowledged.size())));
    }

    /**
     * The dirty page-cache pages of the segments of {@code dir} (kpageflags, through each page's frame from pagemap:
     * root only) that hold only batches of {@code agent} up to {@code through} ({@code WalTestSupport.payload}
     * repeats "batch:agent:seq:", so every page of a batch names it). Pages naming none (Chronicle's header and
     * index, the toucher's zeros ahead of the records) are left out.
     *
     * <p>The pages are found through a read-only mapping of the test's own, not the WAL's: the writer maps and unmaps
     * chunks while this runs, and an address read from /proc/self/maps can name another chunk by the time its
     * pagemap entry is read. The unit is the folio, not the page: a large folio is dirty or clean as a whole, and the
     * writer's next record dirties the folio it lands in, so a folio that also holds a later batch is left out, and
     * so is the one where the last batch acknowledged ends.
     */
    static List<String> dirtyPagesHoldingOnlyBatchesThrough(Path dir, String agent, long through, AtomicLong framesSeen)
            throws java.io.IOException {
        Pattern marker = Pattern.compile("batch:" + agent + ":(\\d+):");
        List<String> out = new ArrayList<>();
        List<String> lastBatchDirty = new ArrayList<>();
        List<Path> segments;
        try (var files = Files.list(dir)) {
            segments = files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
        try (var pagemap = new java.io.RandomAccessFile("/proc/self/pagemap", "r");
             var kpageflags = new java.io.RandomAccessFile("/proc/kpageflags", "r")) {
            for (Path segment : segments) {
                try (var channel = java.nio.channels.FileChannel.open(segment)) {
                    long size = channel.size() & -4096L;
                    if (size == 0) {
                        continue;
                    }
                    var mapped = channel.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, size);
                    long base = net.openhft.chronicle.bytes.BytesStore.wrap(mapped).addressForRead(0);
                    byte[] page = new byte[4096];
                    long folioAt = -1; // the folio being read, and what it holds so far
                    boolean folioDirty = false;
                    long folioHighest = -1;
                    for (long at = 0; at <= size; at += 4096) {
                        long flags = 0;
                        if (at < size) {
                            mapped.get((int) at); // faults the page-cache page into this mapping
                            long entry = word(pagemap, (base + at) / 4096 * 8);
                            long pfn = entry & ((1L << 55) - 1);
                            if (entry < 0 && pfn != 0) { // bit 63: present; a frame of 0: not root
                                framesSeen.incrementAndGet();
                                flags = word(kpageflags, pfn * 8);
                            }
                        }
                        boolean tail = (flags & (1L << 16)) != 0; // KPF_COMPOUND_TAIL: same folio as the page before
                        if (!tail || at == size) { // the folio before is complete
                            if (folioDirty && folioHighest >= 1 && folioHighest < through) {
                                out.add(segment.getFileName() + " folio at file offset " + folioAt
                                        + " (batches up to " + folioHighest + ")");
                            } else if (folioDirty && folioHighest == through) {
                                lastBatchDirty.add(segment.getFileName() + " folio at file offset " + folioAt
                                        + " (the last batch acknowledged, " + through + ")");
                            }
                            if (at == size) {
                                break;
                            }
                            folioAt = at;
                            folioDirty = false;
                            folioHighest = -1;
                        }
                        folioDirty |= (flags & (1L << 4)) != 0; // KPF_DIRTY
                        mapped.get((int) at, page);
                        Matcher m = marker.matcher(new String(page, StandardCharsets.ISO_8859_1));
                        while (m.find()) {
                            folioHighest = Math.max(folioHighest, Long.parseLong(m.group(1)));
                        }
                    }
                }
            }
        }
        // the folio where the last batch acknowledged ends is where the next record begins: its header may already
        // be written (and the folio dirty) with no payload yet to name it
        out.addAll(lastBatchDirty.subList(0, Math.max(0, lastBatchDirty.size() - 1)));
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
