package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
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
        WalConfig d = WalConfig.defaults(tmp.resolve("wal"), true);
        return new WalConfig(d.dir(), true, 0, d.groupCommitMaxBytes(), d.rollCycle(), d.blockSize(), d.limits(),
                checkpointEveryMillis);
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
