package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.payload;
import static dev.holdfast.wal.WalTestSupport.awaitRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At fsync the writer appends while the previous groups' sync is in flight ({@link GroupSyncer}). These tests hold
 * that sync (its commit report blocks the sync thread) and check what may and may not happen meanwhile: batches are
 * appended, and nothing that promises durability (a PERSISTED, a DUPLICATE, a checkpoint) gets out before the sync
 * that backs it.
 */
class GroupSyncTest {
    @TempDir
    Path tmp;

    private WalConfig config(long checkpointEveryMillis) {
        return config(checkpointEveryMillis, 0);
    }

    private WalConfig config(long checkpointEveryMillis, long maxDelayMillis) {
        WalConfig d = WalConfig.defaults(tmp.resolve("wal"), true);
        return new WalConfig(d.dir(), true, TimeUnit.MILLISECONDS.toNanos(maxDelayMillis), d.groupCommitMaxBytes(),
                d.rollCycle(), d.blockSize(), d.limits(), checkpointEveryMillis);
    }

    /** Batches per commit, in commit order. */
    private static CommitListener recording(List<Integer> groups) {
        return (batches, events, bytes, stages) -> groups.add(batches);
    }

    @Test
    void aSyncWaitsForABatchAlreadyOnItsWayAndOneSyncCoversBoth() throws Exception {
        // a burst: batch 2 is received (being validated) when batch 1's sync would start
        List<Integer> groups = new CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS, 60_000), recording(groups))) {
            CompletableFuture<AppendResult> second;
            CompletableFuture<AppendResult> first;
            try (Wal.Arrival arrival = wal.arriving()) {
                first = wal.append(header("b", 1, BatchPriority.NORMAL), payload("b", 1, 100));
                awaitRecords(wal, 1);
                Thread.sleep(200);
                assertFalse(first.isDone(), "batch 1 was synced alone while batch 2 was on its way");
                second = wal.append(header("b", 2, BatchPriority.NORMAL), payload("b", 2, 100));
            }
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status());
            assertEquals(List.of(2), groups, "one sync for both batches");
        }
    }

    @Test
    void aBatchDroppedOnItsWayReleasesTheSyncAtOnceNotAtTheLingersEnd() throws Exception {
        // an arrival that never becomes an append (invalid, shed) must not hold the batches before it for the linger
        List<Integer> groups = new CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS, 60_000), recording(groups))) {
            Wal.Arrival dropped = wal.arriving();
            CompletableFuture<AppendResult> first = wal.append(header("x", 1, BatchPriority.NORMAL),
                    payload("x", 1, 100));
            awaitRecords(wal, 1);
            Thread.sleep(200);
            assertFalse(first.isDone(), "batch 1 did not wait for the batch on its way");
            dropped.close();
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(List.of(1), groups);
        }
    }

    @Test
    void aBatchOnItsWayHoldsASyncNoLongerThanTheLinger() throws Exception {
        List<Integer> groups = new CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS, 300), recording(groups));
             Wal.Arrival stuck = wal.arriving()) { // announced and never closed while the batch is answered
            CompletableFuture<AppendResult> first = wal.append(header("s", 1, BatchPriority.NORMAL),
                    payload("s", 1, 100));
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(List.of(1), groups);
        }
    }

    @Test
    void withNothingOnItsWayASyncDoesNotLinger() throws Exception {
        // a quiet intake's ack waits for its own sync only, however long the linger
        List<Integer> groups = new CopyOnWriteArrayList<>();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS, 60_000), recording(groups))) {
            for (int seq = 1; seq <= 3; seq++) {
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header("q", seq, BatchPriority.NORMAL),
                        payload("q", seq, 100)).get(10, TimeUnit.SECONDS).status());
            }
            assertEquals(List.of(1, 1, 1), groups);
        }
    }

    @Test
    void aBatchAppendedDuringASyncIsSyncedRightAfterItEvenWithMoreOnTheirWay() throws Exception {
        // under full load batches are always on their way: a group that waited out a sync in flight waits no longer
        HeldFirstCommit held = new HeldFirstCommit();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS, 60_000), held)) {
            CompletableFuture<AppendResult> first = wal.append(header("f", 1, BatchPriority.NORMAL), payload("f", 1, 100));
            assertTrue(held.awaitHeld());
            CompletableFuture<AppendResult> second = wal.append(header("f", 2, BatchPriority.NORMAL),
                    payload("f", 2, 100));
            awaitRecords(wal, 2); // appended while the first sync is held
            try (Wal.Arrival third = wal.arriving()) { // on its way for as long as the test looks
                held.release();
                assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
                assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status(),
                        "batch 2 waited for the batch on its way after waiting out batch 1's sync");
            }
            assertEquals(2, held.groups.size(), "one sync for batch 1, one for batch 2: " + held.groups);
        }
    }

    @Test
    void aBatchArrivingDuringASyncIsAppendedAtOnceAndAnsweredAfterItsOwnSync() throws Exception {
        HeldFirstCommit held = new HeldFirstCommit();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS), held)) {
            CompletableFuture<AppendResult> first = wal.append(header("p", 1, BatchPriority.NORMAL), payload("p", 1, 100));
            assertTrue(held.awaitHeld());
            CompletableFuture<AppendResult> second = wal.append(header("p", 2, BatchPriority.NORMAL), payload("p", 2, 100));
            awaitRecords(wal, 2); // appended while the first sync is still held
            Thread.sleep(200);
            assertFalse(first.isDone(), "batch 1 was answered before its commit was done");
            assertFalse(second.isDone(), "batch 2 was answered before any sync covered it");
            held.release();
            assertEquals(AppendResult.Status.PERSISTED, first.get(10, TimeUnit.SECONDS).status());
            assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status());
            assertEquals(2, held.groups.size(), "one sync for batch 1, one for batch 2: " + held.groups);
        }
    }

    @Test
    void aDuplicateOfABatchNotYetSyncedIsAnsweredOnlyOnceItIs() throws Exception {
        // DUPLICATE says "I hold it": for a batch appended but not yet synced that would be a promise ahead of the disk
        HeldFirstCommit held = new HeldFirstCommit();
        try (Wal wal = Wal.open(config(WalConfig.CHECKPOINT_INTERVAL_MILLIS), held)) {
            CompletableFuture<AppendResult> original = wal.append(header("d", 1, BatchPriority.NORMAL),
                    payload("d", 1, 100));
            assertTrue(held.awaitHeld());
            CompletableFuture<AppendResult> resend = wal.append(header("d", 1, BatchPriority.NORMAL),
                    payload("d", 1, 100));
            // the writer has answered the resend's question (held: yes) by the time its queue is empty
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (wal.queuedBatches() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(200);
            assertFalse(resend.isDone(), "the resend was answered " + (resend.isDone() ? resend.get() : "")
                    + " while the batch it duplicates was not yet synced");
            held.release();
            assertEquals(AppendResult.Status.PERSISTED, original.get(10, TimeUnit.SECONDS).status());
            assertEquals(AppendResult.Status.DUPLICATE, resend.get(10, TimeUnit.SECONDS).status());
        }
    }

    @Test
    void aCheckpointNeverCoversRecordsNotYetSynced() throws Exception {
        // a checkpoint naming a batch a power loss then took would answer its resend DUPLICATE: a lost batch
        HeldFirstCommit held = new HeldFirstCommit();
        try (Wal wal = Wal.open(config(1), held)) { // a checkpoint after every group
            wal.append(header("k", 1, BatchPriority.NORMAL), payload("k", 1, 100));
            assertTrue(held.awaitHeld());
            CompletableFuture<AppendResult> second = wal.append(header("k", 2, BatchPriority.NORMAL),
                    payload("k", 2, 100));
            awaitRecords(wal, 2);
            Thread.sleep(300); // the writer's loop offers a checkpoint every 50 ms at most
            SequenceSnapshots.Loaded early = new SequenceSnapshots(tmp.resolve("wal")).load();
            assertTrue(early == null || !early.sequences().contains("k", 1),
                    "a checkpoint names batch k:1 while its sync is still in flight");
            held.release();
            assertEquals(AppendResult.Status.PERSISTED, second.get(10, TimeUnit.SECONDS).status());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            SequenceSnapshots.Loaded later;
            while (((later = new SequenceSnapshots(tmp.resolve("wal")).load()) == null
                    || !later.sequences().contains("k", 2)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertNotNull(later);
            assertTrue(later.sequences().contains("k", 2), "once synced, the checkpoint covers batch k:2");
        }
    }
}
