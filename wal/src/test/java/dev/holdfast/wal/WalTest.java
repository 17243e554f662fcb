package dev.holdfast.wal;

import dev.holdfast.testkit.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.holdfast.wal.WalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class WalTest {
    @TempDir
    Path tmp;

    private WalConfig config(boolean fsync) {
        return WalConfig.defaults(tmp.resolve("wal"), fsync);
    }

    /**
     * A checkpoint whose file cannot be written (here its temp file is a FIFO nobody reads, so opening it blocks as a
     * stalled disk would) holds up no acknowledgement: the writer goes on appending and syncing while it waits, and
     * the next checkpoint is written once the stuck one gives up.
     */
    @Test
    void aCheckpointStuckOnTheDiskHoldsUpNoAcknowledgement() throws Exception {
        Path dir = tmp.resolve("wal");
        WalConfig d = WalConfig.defaults(dir, true);
        // a checkpoint an hour, by the clock the test moves: none is taken but when the test says
        Duration interval = Duration.ofHours(1);
        WalConfig cfg = new WalConfig(dir, true, d.groupCommitMaxDelayNanos(), d.groupCommitMaxBytes(), d.rollCycle(),
                d.blockSize(), d.limits(), interval.toMillis());
        ManualClock clock = new ManualClock();
        java.util.concurrent.atomic.AtomicInteger checkpoints = new java.util.concurrent.atomic.AtomicInteger();
        CommitListener listener = new CommitListener() {
            @Override
            public void committed(int batches, long events, long bytes, Stages stages) {
            }

            @Override
            public void checkpointed(long nanos) {
                checkpoints.incrementAndGet();
            }
        };
        try (Wal wal = Wal.open(cfg, listener, clock)) {
            Path fifo = dir.resolve(SequenceSnapshots.FILE + ".tmp");
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
            assertEquals(AppendResult.Status.PERSISTED,
                    wal.append(header("a", 1, BatchPriority.NORMAL), payload("a", 1, 1000)).get().status());
            clock.advance(interval);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!checkpointBlockedInOpen()) {
                assertTrue(System.nanoTime() < deadline, "no checkpoint ever blocked opening the FIFO");
                Thread.sleep(20);
            }
            int before = checkpoints.get();
            for (int seq = 2; seq <= 50; seq++) {
                AppendResult r = wal.append(header("a", seq, BatchPriority.NORMAL), payload("a", seq, 1000))
                        .get(10, TimeUnit.SECONDS);
                assertEquals(AppendResult.Status.PERSISTED, r.status(), "batch " + seq + " behind a stuck checkpoint");
            }
            assertTrue(checkpointBlockedInOpen(), "the checkpoint was still stuck while all of them were acknowledged");

            // let it go: opening the FIFO read-write unblocks its writer, whose fsync then fails (a pipe cannot be
            // synced); the path is gone before the next checkpoint, which is an ordinary file again
            try (RandomAccessFile unblock = new RandomAccessFile(fifo.toFile(), "rw")) {
                Files.delete(fifo);
                clock.advance(interval);
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (checkpoints.get() == before) {
                    assertTrue(System.nanoTime() < deadline, "no checkpoint was written after the stuck one");
                    Thread.sleep(20);
                }
            }
        }
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            assertTrue(wal.recovery().fromCheckpoint(), "restarted from a checkpoint");
            for (int seq = 1; seq <= 50; seq++) {
                assertEquals(AppendResult.Status.DUPLICATE, wal.append(header("a", seq, BatchPriority.NORMAL),
                        payload("a", seq, 1000)).get().status(), "batch " + seq + " is held");
            }
        }
    }

    /** Whether some thread, whichever, is writing a checkpoint and inside an open(2) of its file. */
    private static boolean checkpointBlockedInOpen() {
        return Thread.getAllStackTraces().values().stream().anyMatch(stack -> {
            List<String> frames = java.util.Arrays.stream(stack).map(f -> f.getClassName() + "." + f.getMethodName())
                    .toList();
            return frames.stream().anyMatch(f -> f.endsWith("UnixNativeDispatcher.open0"))
                    && frames.stream().anyMatch(f -> f.startsWith(SequenceSnapshots.class.getName() + "."));
        });
    }

    @Test
    void anotherAgentsBatchIsWrittenInTheNextGroupNotBehindAFlood() throws Exception {
        // the writer is held in its first group's commit while one agent queues 300 batches and another one (at
        // written durability the listener runs on the writer's thread, so holding it holds the writer)
        HeldFirstCommit holdFirst = new HeldFirstCommit();
        WalConfig cfg = new WalConfig(tmp.resolve("wal"), false, 0, 256 << 10, "FAST_HOURLY", 1L << 20,
                WalConfig.defaults(tmp, true).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(cfg, holdFirst)) {
            List<CompletableFuture<AppendResult>> flood = new ArrayList<>();
            flood.add(wal.append(header("flood", 1, BatchPriority.NORMAL), payload("flood", 1, 32 << 10)));
            assertTrue(holdFirst.awaitHeld());
            for (int seq = 2; seq <= 300; seq++) {
                flood.add(wal.append(header("flood", seq, BatchPriority.NORMAL), payload("flood", seq, 32 << 10)));
            }
            CompletableFuture<AppendResult> canary = wal.append(header("canary", 1, BatchPriority.NORMAL),
                    payload("canary", 1, 100));
            holdFirst.release();
            long canaryIndex = canary.get(10, TimeUnit.SECONDS).index();
            // a group holds at most 256 KiB: 8 of the flood's 32 KiB batches; FIFO would put the canary after 300
            long floodIndex10 = flood.get(9).get(10, TimeUnit.SECONDS).index();
            assertTrue(canaryIndex < floodIndex10, "the canary was written at " + canaryIndex
                    + ", after the flood's 10th batch at " + floodIndex10);
            long prev = -1;
            for (CompletableFuture<AppendResult> f : flood) {
                AppendResult r = f.get(10, TimeUnit.SECONDS);
                assertEquals(AppendResult.Status.PERSISTED, r.status());
                assertTrue(r.index() > prev, "the flood's own batches stay in order");
                prev = r.index();
            }
        }
    }

    @Test
    void roundTripKeepsHeaderAndExactBytes() throws Exception {
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            for (int seq = 1; seq <= 200; seq++) {
                acks.add(wal.append(header("a1", seq, BatchPriority.NORMAL), payload("a1", seq, 1000 + seq)));
            }
            long prev = -1;
            for (CompletableFuture<AppendResult> f : acks) {
                AppendResult r = f.get(10, TimeUnit.SECONDS);
                assertEquals(AppendResult.Status.PERSISTED, r.status());
                assertTrue(r.index() > prev, "indices grow");
                prev = r.index();
            }
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(200, all.size());
            for (int i = 0; i < all.size(); i++) {
                WalRecord rec = ((WalReader.Valid) all.get(i)).record();
                int seq = i + 1;
                assertEquals(header("a1", seq, BatchPriority.NORMAL), rec.header());
                assertArrayEquals(payload("a1", seq, 1000 + seq), rec.payload());
                assertEquals(acks.get(i).get().index(), rec.index());
            }
        }
        try (WalInspector inspector = WalInspector.open(tmp.resolve("wal"))) {
            WalInspector.Verification v = inspector.verify();
            assertTrue(v.ok());
            assertEquals(200, v.validRecords());
            assertEquals(600, v.validEvents());
            assertEquals(1, inspector.segments().size());
            assertEquals(200, inspector.segments().get(0).records());
        }
    }

    @Test
    void duplicateIsNotWrittenTwiceAndStateSurvivesRestart() throws Exception {
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("a", 1, BatchPriority.NORMAL), payload("a", 1, 100)).get().status());
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("a", 3, BatchPriority.NORMAL), payload("a", 3, 100)).get().status());
            assertEquals(AppendResult.Status.DUPLICATE, wal.append(header("a", 1, BatchPriority.NORMAL), payload("a", 1, 100)).get().status());
        }
        // once from the checkpoint written at close, once from a full scan without it
        for (boolean dropCheckpoint : new boolean[]{false, true}) {
            if (dropCheckpoint) Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
            try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
                assertEquals(!dropCheckpoint, wal.recovery().fromCheckpoint());
                assertEquals(new AgentSequences.Resume(1, List.of(3L)), wal.sequences().resume("a"));
                assertEquals(AppendResult.Status.DUPLICATE, wal.append(header("a", 3, BatchPriority.NORMAL), payload("a", 3, 100)).get().status());
                assertEquals(2, readAll(wal).size());
            }
        }
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("a", 2, BatchPriority.NORMAL), payload("a", 2, 100)).get().status());
            assertEquals(new AgentSequences.Resume(3, List.of()), wal.sequences().resume("a"));
        }
    }

    @Test
    void otlpRequestsAreNeverDuplicatesAndKeepTheirKindAcrossRestart() throws Exception {
        // OTLP has no batch seq: two identical exports are two records, and neither teaches the WAL a seq that would
        // make a holdfast.v1 batch of the same agent (seq 0 or otherwise) a DUPLICATE
        BatchHeader otlp = new BatchHeader("svc", 0, 5, BatchPriority.CRITICAL, 1_700_000_000_000_000_000L,
                RecordKind.OTLP_LOGS);
        byte[] request = payload("otlp", 0, 300);
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(AppendResult.Status.PERSISTED, wal.append(otlp, request).get().status());
            assertEquals(AppendResult.Status.PERSISTED, wal.append(otlp, request).get().status());
            BatchHeader metrics = new BatchHeader("svc", 0, 2, BatchPriority.BULK, 1_700_000_000_000_000_001L,
                    RecordKind.OTLP_METRICS);
            assertEquals(AppendResult.Status.PERSISTED, wal.append(metrics, payload("m", 0, 50)).get().status());
            assertEquals(new AgentSequences.Resume(0, List.of()), wal.sequences().resume("svc"));
        }
        for (boolean dropCheckpoint : new boolean[]{false, true}) {
            if (dropCheckpoint) Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
            try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
                List<WalReader.Entry> all = readAll(wal);
                assertEquals(3, all.size());
                assertEquals(otlp, ((WalReader.Valid) all.get(0)).record().header());
                assertArrayEquals(request, ((WalReader.Valid) all.get(1)).record().payload());
                assertEquals(RecordKind.OTLP_METRICS, ((WalReader.Valid) all.get(2)).record().header().kind());
                assertEquals(new AgentSequences.Resume(0, List.of()), wal.sequences().resume("svc"));
            }
        }
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(AppendResult.Status.PERSISTED,
                    wal.append(header("svc", 1, BatchPriority.NORMAL), payload("svc", 1, 100)).get().status());
        }
        try (WalInspector inspector = WalInspector.open(tmp.resolve("wal"))) {
            assertTrue(inspector.verify().ok());
        }
    }

    @Test
    void seqsAreUnsignedInTheWalAndAcrossRestart() throws Exception {
        long[] seqs = {1, Long.MAX_VALUE, Long.MIN_VALUE, -1L}; // 1, 2^63-1, 2^63, 2^64-1
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            for (long seq : seqs) {
                assertEquals(AppendResult.Status.PERSISTED,
                        wal.append(header("u", seq, BatchPriority.NORMAL), payload("u", seq, 100)).get().status(),
                        Long.toUnsignedString(seq));
            }
            for (long seq : seqs) {
                assertEquals(AppendResult.Status.DUPLICATE,
                        wal.append(header("u", seq, BatchPriority.NORMAL), payload("u", seq, 100)).get().status());
            }
        }
        for (boolean dropCheckpoint : new boolean[]{false, true}) {
            if (dropCheckpoint) Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
            try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
                assertEquals(new AgentSequences.Resume(1, List.of(Long.MAX_VALUE, Long.MIN_VALUE, -1L)),
                        wal.sequences().resume("u"));
                List<WalReader.Entry> all = readAll(wal);
                assertEquals(4, all.size());
                for (int i = 0; i < 4; i++) {
                    assertEquals(seqs[i], ((WalReader.Valid) all.get(i)).record().header().batchSeq());
                }
                assertEquals(AppendResult.Status.DUPLICATE,
                        wal.append(header("u", -1L, BatchPriority.NORMAL), payload("u", -1L, 100)).get().status());
            }
        }
    }

    @Test
    void aRecordLargerThanAQuarterBlockIsRefusedAloneAndTheWriterGoesOn() throws Exception {
        // 1 MiB blocks: Chronicle writes one document within 256 KiB; a 400 KB record used to stop the writer for
        // every batch after it ("WAL writer stopped; batches are refused until restart")
        WalConfig small = new WalConfig(tmp.resolve("wal"), true, 2_000_000L, 8L << 20, "FAST_HOURLY", 1L << 20,
                WalConfig.defaults(tmp, true).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(small, CommitListener.NONE)) {
            CompletableFuture<AppendResult> before = wal.append(header("b", 1, BatchPriority.NORMAL), payload("b", 1, 100));
            AppendResult big = wal.append(header("b", 2, BatchPriority.NORMAL), payload("b", 2, 400_000)).get();
            assertEquals(AppendResult.Status.TOO_LARGE, big.status());
            assertTrue(big.message().contains("a quarter of wal.blockSize"), big.message());
            AppendResult fits = wal.append(header("b", 3, BatchPriority.NORMAL),
                    payload("b", 3, (int) small.maxRecordBytes() - 200)).get();
            assertEquals(AppendResult.Status.PERSISTED, before.get().status());
            assertEquals(AppendResult.Status.PERSISTED, fits.status(), fits.message());
            assertEquals(AppendResult.Status.PERSISTED,
                    wal.append(header("b", 4, BatchPriority.NORMAL), payload("b", 4, 100)).get().status());
            assertTrue(wal.writable());
            assertEquals(3, readAll(wal).size());
        }
    }

    @Test
    void aSeqReusedWithOtherContentIsRefusedAlsoAfterARestart() throws Exception {
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("r", 1, BatchPriority.NORMAL), payload("r", 1, 100)).get().status());
            // in one group: the second batch under seq 2 meets the first, written a moment before
            CompletableFuture<AppendResult> first = wal.append(header("r", 2, BatchPriority.NORMAL), payload("r", 2, 100));
            CompletableFuture<AppendResult> other = wal.append(header("r", 2, BatchPriority.NORMAL), payload("other", 2, 100));
            assertEquals(AppendResult.Status.PERSISTED, first.get().status());
            AppendResult refused = other.get();
            assertEquals(AppendResult.Status.CONFLICT, refused.status());
            assertTrue(refused.message().contains("batch_seq 2 was reused with other content"), refused.message());
        }
        // once from the checkpoint written at close, once from a full scan without it
        for (boolean dropCheckpoint : new boolean[]{false, true}) {
            if (dropCheckpoint) Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
            try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
                assertEquals(!dropCheckpoint, wal.recovery().fromCheckpoint());
                assertEquals(AppendResult.Status.CONFLICT,
                        wal.append(header("r", 1, BatchPriority.NORMAL), payload("r", 1, 101)).get().status());
                assertEquals(AppendResult.Status.DUPLICATE,
                        wal.append(header("r", 1, BatchPriority.NORMAL), payload("r", 1, 100)).get().status());
                assertEquals(AppendResult.Status.CONFLICT,
                        wal.append(header("r", 2, BatchPriority.NORMAL), payload("other", 2, 100)).get().status());
                assertEquals(AppendResult.Status.DUPLICATE,
                        wal.append(header("r", 2, BatchPriority.NORMAL), payload("r", 2, 100)).get().status());
                assertEquals(2, readAll(wal).size());
            }
        }
    }

    @Test
    void aHeldSeqOlderThanTheChecksumWindowIsADuplicateWithoutComparison() throws Exception {
        try (Wal wal = Wal.open(config(false), CommitListener.NONE)) {
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            for (long seq = 1; seq <= ContentWindow.SIZE + 1; seq++) {
                acks.add(wal.append(header("w", seq, BatchPriority.NORMAL), payload("w", seq, 10)));
            }
            for (var a : acks) assertEquals(AppendResult.Status.PERSISTED, a.get().status());
            // seq 1's slot now holds seq SIZE + 1: its content is no longer known
            AppendResult r = wal.append(header("w", 1, BatchPriority.NORMAL), payload("x", 1, 10)).get();
            assertEquals(AppendResult.Status.DUPLICATE, r.status());
            assertTrue(r.message().contains("content not compared"), r.message());
            assertEquals(AppendResult.Status.CONFLICT,
                    wal.append(header("w", 2, BatchPriority.NORMAL), payload("x", 2, 10)).get().status());
        }
    }

    @Test
    void groupCommitAcksOnlyAfterTheSharedSync() throws Exception {
        // held after the sync has returned: acknowledgements must still be held back
        HeldFirstCommit gate = new HeldFirstCommit();
        try (Wal wal = Wal.open(config(true), gate)) {
            CompletableFuture<AppendResult> first = wal.append(header("g", 1, BatchPriority.NORMAL), payload("g", 1, 100));
            assertTrue(gate.awaitHeld());
            List<CompletableFuture<AppendResult>> rest = new ArrayList<>();
            for (int seq = 2; seq <= 100; seq++) {
                rest.add(wal.append(header("g", seq, BatchPriority.NORMAL), payload("g", seq, 100)));
            }
            Thread.sleep(200);
            assertFalse(first.isDone(), "acked before its group commit finished");
            assertTrue(rest.stream().noneMatch(CompletableFuture::isDone), "acked before being synced");
            gate.release();
            first.get(10, TimeUnit.SECONDS);
            for (CompletableFuture<AppendResult> f : rest) {
                assertEquals(AppendResult.Status.PERSISTED, f.get(10, TimeUnit.SECONDS).status());
            }
            // the 99 batches queued behind the held commit shared very few syncs
            assertTrue(gate.groups.size() <= 3, "expected group commits, got " + gate.groups.size()
                    + " syncs for 100 batches");
            assertTrue(gate.syncNanos.stream().allMatch(n -> n > 0), "fsync durability must sync every group");
            for (CommitListener.Stages st : gate.stages) {
                assertTrue(st.appendNanos() > 0 && st.syncNanos() > 0, "each group's append and sync are timed: " + st);
            }
        }
    }

    /** An hour between checkpoints by time: only the byte bound can take one while a test runs. */
    private WalConfig checkpointsByBytesOnly(boolean fsync, long bytes) {
        WalConfig d = config(fsync);
        return new WalConfig(d.dir(), fsync, 0, d.groupCommitMaxBytes(), d.rollCycle(), d.blockSize(), d.limits(),
                TimeUnit.HOURS.toMillis(1), bytes);
    }

    @Test
    void aCheckpointIsTakenByBytesWrittenNotOnlyByTime() throws Exception {
        WalConfig d = checkpointsByBytesOnly(true, 64 << 10);
        try (Wal wal = Wal.open(d, CommitListener.NONE)) {
            long fourth = -1;
            for (int seq = 1; seq <= 10; seq++) {
                AppendResult r = wal.append(header("cp", seq, BatchPriority.NORMAL), payload("cp", seq, 20_000)).get();
                if (seq == 4) {
                    fourth = r.index(); // 4 x 20 KB: past 64 KiB
                }
            }
            SequenceSnapshots.Loaded saved = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline
                    && ((saved = new SequenceSnapshots(d.dir()).load()) == null || saved.coversThroughIndex() < fourth)) {
                Thread.sleep(20);
            }
            assertNotNull(saved, "no checkpoint while the WAL is open, after 200 KB written with a 64 KiB bound");
            assertTrue(saved.coversThroughIndex() >= fourth, "the checkpoint covers only through index "
                    + Long.toHexString(saved.coversThroughIndex()) + ", not the 4th record " + Long.toHexString(fourth));
            assertTrue(saved.sequences().resume("cp").persistedThrough() >= 4, saved.sequences().resume("cp").toString());
        }
    }

    @Test
    void aLargerCheckpointIsTakenMoreRarelyThanTheByteBound() throws Exception {
        WalConfig d = checkpointsByBytesOnly(false, 4 << 10);
        try (Wal wal = Wal.open(d, CommitListener.NONE)) {
            for (int agent = 0; agent < 40; agent++) { // 40 agents x 200 B: past 4 KiB, one checkpoint
                wal.append(header("a" + agent, 1, BatchPriority.NORMAL), payload("a" + agent, 1, 200)).get();
            }
            long firstCovers = awaitCheckpoint(d.dir(), 0);
            long size = Files.size(d.dir().resolve(SequenceSnapshots.FILE));
            assertTrue(64 * size > 2 * (4 << 10), "a checkpoint of 20-odd agents is " + size + " bytes");
            long written = 0;
            for (int seq = 2; written < 32 * size; seq++) { // over the 4 KiB bound, half of 64 x the checkpoint
                wal.append(header("a0", seq, BatchPriority.NORMAL), payload("a0", seq, 1_000)).get();
                written += 1_000;
            }
            Thread.sleep(300);
            assertEquals(firstCovers, new SequenceSnapshots(d.dir()).load().coversThroughIndex(),
                    "no second checkpoint after " + written + " bytes, under 64 x " + size);
            for (int seq = 1; written < 70 * size; seq++) {
                wal.append(header("b", seq, BatchPriority.NORMAL), payload("b", seq, 1_000)).get();
                written += 1_000;
            }
            awaitCheckpoint(d.dir(), firstCovers + 1); // a second one, past 64 x the first's size
        }
    }

    private static long awaitCheckpoint(Path dir, long through) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        SequenceSnapshots.Loaded saved;
        while (((saved = new SequenceSnapshots(dir).load()) == null || saved.coversThroughIndex() < through)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertNotNull(saved, "no checkpoint");
        assertTrue(saved.coversThroughIndex() >= through);
        return saved.coversThroughIndex();
    }

    /** fsync with a long linger, so that whether a group waited for company shows in the groups' sizes. */
    private WalConfig lingering() {
        WalConfig d = config(true);
        return new WalConfig(d.dir(), true, TimeUnit.SECONDS.toNanos(2), d.groupCommitMaxBytes(), d.rollCycle(),
                d.blockSize(), d.limits(), d.snapshotIntervalMillis());
    }

    @Test
    void aQuietWalSyncsAtOnceInsteadOfLingeringForCompany() throws Exception {
        List<Integer> groups = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(lingering(), (batches, events, bytes, nanos) -> groups.add(batches))) {
            CompletableFuture<AppendResult> first = wal.append(header("q", 1, BatchPriority.NORMAL), payload("q", 1, 100));
            Thread.sleep(300); // well inside the 2 s linger: a lingering group would take the next batch too
            CompletableFuture<AppendResult> second = wal.append(header("q", 2, BatchPriority.NORMAL), payload("q", 2, 100));
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status());
        }
        assertEquals(List.of(1, 1), groups, "nothing arrived during the last sync, so no group waits for company");
    }

    @Test
    void batchesAppendedDuringASyncAreSyncedAtOnceWhenNothingElseIsOnItsWay() throws Exception {
        // every client may be waiting for its acks: a linger would then wait for batches that cannot come
        HeldFirstCommit holdFirst = new HeldFirstCommit();
        try (Wal wal = Wal.open(lingering(), holdFirst)) {
            CompletableFuture<AppendResult> first = wal.append(header("w", 1, BatchPriority.NORMAL),
                    payload("w", 1, 100));
            assertTrue(holdFirst.awaitHeld());
            CompletableFuture<AppendResult> second = wal.append(header("w", 2, BatchPriority.NORMAL),
                    payload("w", 2, 100));
            awaitRecords(wal, 2);
            holdFirst.release();
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status());
            Thread.sleep(300); // well inside the 2 s linger: a lingering group would take the next batch too
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("w", 3, BatchPriority.NORMAL),
                    payload("w", 3, 100)).get(10, TimeUnit.SECONDS).status());
        }
        assertEquals(List.of(1, 1, 1), holdFirst.groups);
    }

    /** How long the first commit is held, by the test's clock. */
    private static final Duration HELD = Duration.ofMillis(300);

    /**
     * The stages of the commits around a first one held while the test's clock moves {@link #HELD}, with batch 2
     * queued behind it. At written durability the gate holds the writer, and batch 2 waits in its queue. At fsync
     * it holds the sync thread, and the writer appends batch 2 at once; the clock moves only once batch 2's group
     * has been timed and handed on, which is certain when batch 3, sent after batch 2 was appended, is appended too.
     */
    private List<CommitListener.Stages> stagesBehindAHeldCommit(boolean fsync) throws Exception {
        HeldFirstCommit gate = new HeldFirstCommit();
        ManualClock clock = new ManualClock();
        try (Wal wal = Wal.open(config(fsync), gate, clock)) {
            wal.append(header("s", 1, BatchPriority.NORMAL), payload("s", 1, 100));
            assertTrue(gate.awaitHeld());
            List<CompletableFuture<AppendResult>> queued = new ArrayList<>();
            queued.add(wal.append(header("s", 2, BatchPriority.NORMAL), payload("s", 2, 100)));
            if (fsync) {
                awaitRecords(wal, 2);
                queued.add(wal.append(header("s", 3, BatchPriority.NORMAL), payload("s", 3, 100)));
                awaitRecords(wal, 3);
            }
            clock.advance(HELD);
            gate.release();
            for (CompletableFuture<AppendResult> q : queued) {
                assertEquals(AppendResult.Status.PERSISTED, q.get(10, TimeUnit.SECONDS).status());
            }
            return List.copyOf(gate.stages);
        }
    }

    @Test
    void eachCommitReportsHowLongItsBatchesWaitedForTheSyncInFlight() throws Exception {
        List<CommitListener.Stages> stages = stagesBehindAHeldCommit(true);
        assertEquals(0, stages.get(0).syncWaitNanos(), "batch 1 was synced at once: " + stages.get(0));
        CommitListener.Stages second = stages.get(1);
        assertEquals(HELD.toNanos(), second.syncWaitNanos(), "batch 2 waited for the held sync: " + second);
        assertEquals(0, second.waitNanos(), "batch 2 waited for the writer, which a sync in flight must not hold up: "
                + second);
    }

    @Test
    void aGroupReportsHowLongItsBatchesWaitedForTheWriter() throws Exception {
        List<CommitListener.Stages> stages = stagesBehindAHeldCommit(false);
        assertEquals(0, stages.get(0).waitNanos(), "batch 1 was taken at once: " + stages.get(0));
        assertEquals(HELD.toNanos(), stages.get(1).waitNanos(), "batch 2 waited for the held writer: " + stages.get(1));
    }

    @Test
    void writtenDurabilityDoesNotSync() throws Exception {
        List<Long> syncNanos = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(config(false), (b, e, by, stages) -> syncNanos.add(stages.syncNanos()))) {
            for (int seq = 1; seq <= 20; seq++) {
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header("w", seq, BatchPriority.NORMAL), payload("w", seq, 100)).get().status());
            }
        }
        assertFalse(syncNanos.isEmpty());
        assertTrue(syncNanos.stream().allMatch(n -> n == 0));
    }

    @Test
    void checksumMismatchIsReportedWithSegmentIndexAndReason() throws Exception {
        long victimIndex;
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            for (int seq = 1; seq <= 5; seq++) {
                wal.append(header("c", seq, BatchPriority.NORMAL), payload("c", seq, 500)).get();
            }
            victimIndex = ((WalReader.Valid) readAll(wal).get(2)).index();
        }
        Path segment = onlySegment(tmp.resolve("wal"));
        long at = find(segment, "batch:c:3:".getBytes(StandardCharsets.US_ASCII));
        assertTrue(at > 0);
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(at + 100);
            f.write('X'); // one flipped byte in the middle of batch 3's payload
        }
        try (WalInspector inspector = WalInspector.open(tmp.resolve("wal"))) {
            WalInspector.Verification v = inspector.verify();
            assertEquals(4, v.validRecords());
            assertEquals(1, v.corrupt().size());
            WalReader.Corrupt c = v.corrupt().get(0);
            assertEquals(victimIndex, c.index());
            assertEquals(segment.getFileName().toString(), c.segment());
            assertTrue(c.reason().startsWith("checksum mismatch"), c.reason());
        }
        // Start-up scans only what its last checkpoint does not cover (restart time must not grow with the WAL);
        // older damage is for `wal verify`. Without a checkpoint the scan covers everything, and a corrupt batch
        // does not count as persisted: the agent's resend is accepted again.
        Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(1, wal.recovery().corrupt().size());
            assertEquals(new AgentSequences.Resume(2, List.of(4L, 5L)), wal.sequences().resume("c"));
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("c", 3, BatchPriority.NORMAL), payload("c", 3, 500)).get().status());
        }
    }

    @Test
    void garbledTailIsDetectedAndLaterAppendsStayReadable() throws Exception {
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            for (int seq = 1; seq <= 5; seq++) {
                wal.append(header("t", seq, BatchPriority.NORMAL), payload("t", seq, 2000)).get();
            }
        }
        Path segment = onlySegment(tmp.resolve("wal"));
        long at = find(segment, "batch:t:5:".getBytes(StandardCharsets.US_ASCII));
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(at);
            byte[] garbage = new byte[1500];
            new java.util.Random(7).nextBytes(garbage);
            f.write(garbage);
        }
        // as after a crash that came before the next checkpoint: the tail is scanned at start-up
        Files.delete(tmp.resolve("wal").resolve(SequenceSnapshots.FILE));
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            assertEquals(1, wal.recovery().corrupt().size());
            assertEquals(new AgentSequences.Resume(4, List.of()), wal.sequences().resume("t"));
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("t", 5, BatchPriority.NORMAL), payload("t", 5, 2000)).get().status());
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header("t", 6, BatchPriority.NORMAL), payload("t", 6, 2000)).get().status());
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(7, all.size());
            assertInstanceOf(WalReader.Corrupt.class, all.get(4));
            assertEquals(6, ((WalReader.Valid) all.get(6)).record().header().batchSeq());
        }
    }

    @Test
    void truncatedTailIsRepairedFastWithoutStrandingNewAppends() throws Exception {
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            for (int seq = 1; seq <= 10; seq++) {
                wal.append(header("tr", seq, BatchPriority.NORMAL), payload("tr", seq, 100_000)).get();
            }
        }
        Path segment = onlySegment(tmp.resolve("wal"));
        long at = find(segment, "batch:tr:8:".getBytes(StandardCharsets.US_ASCII));
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(at + 50_000); // cut batch 8 in half; 9 and 10 are gone
        }
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            WalRecovery.Report report = wal.recovery();
            assertNotNull(report.quarantinedTo(), "repair expected: " + report);
            assertEquals(7, report.salvagedRecords());
            assertEquals(1, report.corrupt().size(), "the half-cut batch 8 is reported: " + report.corrupt());
            assertTrue(report.millis() < 2000, "recovery took " + report.millis() + " ms");
            try (var q = Files.list(Path.of(report.quarantinedTo()))) {
                assertTrue(q.anyMatch(f -> f.getFileName().toString().startsWith(segment.getFileName() + ".")),
                        "the damaged bytes are kept in quarantine");
            }
            assertEquals(new AgentSequences.Resume(7, List.of()), wal.sequences().resume("tr"));
            for (int seq = 8; seq <= 10; seq++) {
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header("tr", seq, BatchPriority.NORMAL), payload("tr", seq, 1000)).get().status());
            }
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(10, all.size());
            for (int i = 0; i < 10; i++) {
                assertEquals(i + 1, ((WalReader.Valid) all.get(i)).record().header().batchSeq());
            }
        }
        try (WalInspector inspector = WalInspector.open(tmp.resolve("wal"))) {
            assertTrue(inspector.verify().ok());
        }
    }

    @Test
    void writerKilledMidRecordRecoversImmediatelyAndLosesNothingAcknowledged() throws Exception {
        Path dir = tmp.resolve("wal");
        runTornWriter(dir, 5);
        long t0 = System.nanoTime();
        try (Wal wal = Wal.open(config(true), CommitListener.NONE)) {
            long openMillis = (System.nanoTime() - t0) / 1_000_000;
            assertNull(wal.recovery().quarantinedTo(), "a torn last write is not damage: " + wal.recovery());
            assertTrue(wal.recovery().corrupt().isEmpty());
            assertTrue(openMillis < 2000, "open took " + openMillis + " ms");
            assertEquals(new AgentSequences.Resume(5, List.of()), wal.sequences().resume("torn"));
            CompletableFuture<AppendResult> next = wal.append(header("torn", 6, BatchPriority.NORMAL), payload("torn", 6, 100));
            assertEquals(AppendResult.Status.PERSISTED, next.get(2, TimeUnit.SECONDS).status());
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(6, all.size());
            assertTrue(all.stream().allMatch(e -> e instanceof WalReader.Valid));
        }
    }

    @Test
    void diskGuardShedsBulkThenNormalAndKeepsCriticalUntilFull() throws Exception {
        long limit = 2L << 20;
        WalConfig cfg = config(false).withLimits(new DiskGuard.Limits(limit, 0, 0.5, 0.75, 250));
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            long seq = 0;
            // fill with BULK until it is shed
            AppendResult r;
            while ((r = wal.append(header("d", ++seq, BatchPriority.BULK), payload("d", seq, 20_000)).get()).status()
                    == AppendResult.Status.PERSISTED) {
                assertTrue(seq < 1000);
            }
            assertEquals(AppendResult.Status.REJECTED, r.status());
            assertEquals(250, r.retryAfterMs());
            assertTrue(r.message().contains("BULK"), r.message());
            double bulkStop = (double) wal.guard().walBytes() / limit;
            assertTrue(bulkStop >= 0.45 && bulkStop <= 0.5, "BULK shed at " + bulkStop);
            // NORMAL still accepted until its watermark
            while ((r = wal.append(header("d", ++seq, BatchPriority.NORMAL), payload("d", seq, 20_000)).get()).status()
                    == AppendResult.Status.PERSISTED) {
                assertTrue(seq < 1000);
            }
            double normalStop = (double) wal.guard().walBytes() / limit;
            assertTrue(normalStop >= 0.7 && normalStop <= 0.75, "NORMAL shed at " + normalStop);
            assertTrue(wal.writable());
            // CRITICAL kept until the hard limit
            while ((r = wal.append(header("d", ++seq, BatchPriority.CRITICAL), payload("d", seq, 20_000)).get()).status()
                    == AppendResult.Status.PERSISTED) {
                assertTrue(seq < 1000);
            }
            assertTrue(wal.guard().walBytes() <= limit);
            assertTrue(wal.guard().walBytes() > limit - 30_000);
            assertEquals(AppendResult.Status.REJECTED, r.status());
            assertEquals(AppendResult.Status.REJECTED,
                    wal.append(header("d", ++seq, BatchPriority.CRITICAL), payload("d", seq, 20_000)).get().status());
            // everything accepted is still there
            long persisted = readAll(wal).size();
            assertTrue(persisted > 50, "persisted " + persisted);
        }
    }

    @Test
    void readerTailsNewAppends() throws Exception {
        try (Wal wal = Wal.open(config(false), CommitListener.NONE); WalReader reader = wal.newReader()) {
            assertNull(reader.next());
            wal.append(header("r", 1, BatchPriority.NORMAL), payload("r", 1, 10)).get();
            WalReader.Entry e = reader.next(2000);
            assertNotNull(e);
            assertEquals(1, ((WalReader.Valid) e).record().header().batchSeq());
            long first = e.index();
            wal.append(header("r", 2, BatchPriority.NORMAL), payload("r", 2, 10)).get();
            assertEquals(2, ((WalReader.Valid) reader.next(2000)).record().header().batchSeq());
            try (WalReader from = wal.newReader()) {
                from.seekAfter(first);
                assertEquals(2, ((WalReader.Valid) from.next()).record().header().batchSeq());
            }
        }
    }

    @Test
    void secondOpenOfTheSameDirectoryFailsClearly() throws Exception {
        try (Wal wal = Wal.open(config(false), CommitListener.NONE)) {
            var e = assertThrows(java.io.IOException.class, () -> Wal.open(config(false), CommitListener.NONE));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void segmentDeletionRefusesTheNewestAndMappedSegmentsAndCreditsTheDiskGuard() throws Exception {
        WalConfig cfg = new WalConfig(tmp.resolve("wal"), false, 0, 1 << 20, "TEST_SECONDLY", 1L << 20,
                WalConfig.defaults(tmp, false).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            wal.append(header("s", 1, BatchPriority.NORMAL), payload("s", 1, 5000)).get();
            Thread.sleep(1100); // next second, next segment
            wal.append(header("s", 2, BatchPriority.NORMAL), payload("s", 2, 5000)).get();
            List<WalSegment> segs = wal.segments();
            assertEquals(2, segs.size(), segs.toString());
            assertEquals(1, segs.get(0).records());
            assertFalse(wal.deleteSegment(segs.get(1)), "the writer's segment is never deleted");
            long before = wal.guard().walBytes();
            try (WalReader pinned = wal.newReader()) {
                assertNotNull(pinned.next()); // a reader holds the old segment
                assertFalse(wal.deleteSegment(segs.get(0)), "a segment a reader has mapped is not deleted");
            }
            // Chronicle releases the file some time after the tailer closes
            long deadline = System.currentTimeMillis() + 5000;
            boolean deleted = false;
            while (!deleted && System.currentTimeMillis() < deadline) {
                deleted = wal.deleteSegment(segs.get(0));
                if (!deleted) Thread.sleep(50);
            }
            assertTrue(deleted);
            assertEquals(before - segs.get(0).usedBytes(), wal.guard().walBytes());
            List<WalReader.Entry> left = readAll(wal);
            assertEquals(1, left.size());
            assertEquals(2, ((WalReader.Valid) left.get(0)).record().header().batchSeq());
        }
    }

    @Test
    void listingTheSegmentsDoesNotKeepThemFromRetention() throws Exception {
        WalConfig cfg = new WalConfig(tmp.resolve("wal"), false, 0, 1 << 20, "TEST_SECONDLY", 1L << 20,
                WalConfig.defaults(tmp, false).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            for (int seq = 1; seq <= 3; seq++) {
                wal.append(header("s", seq, BatchPriority.NORMAL), payload("s", seq, 5000)).get();
                Thread.sleep(1100); // next second, next segment
            }
            wal.append(header("s", 4, BatchPriority.NORMAL), payload("s", 4, 5000)).get();
            // retention lists the segments (which maps each one to count its records) and deletes right after
            for (int i = 0; i < 3; i++) {
                List<WalSegment> segs = wal.segments();
                assertTrue(wal.deleteSegment(segs.get(0)), "nothing but the listing mapped " + segs.get(0));
            }
            assertEquals(1, wal.segments().size());
        }
    }
}
