package dev.holdfast.wal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A commit listener that holds the thread reporting the first commit (after the sync, before the acks) until
 * {@link #release()}, so that a test can queue batches behind a commit in progress; it records every commit's size
 * and stages. At fsync durability that is the sync thread, and the writer goes on appending; at written durability,
 * the writer itself.
 */
final class HeldFirstCommit implements CommitListener {
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    /** Batches appended per commit, in commit order. */
    final List<Integer> groups = new CopyOnWriteArrayList<>();
    final List<Long> syncNanos = new CopyOnWriteArrayList<>();
    final List<Stages> stages = new CopyOnWriteArrayList<>();

    @Override
    public void committed(int batches, long events, long bytes, Stages stages) {
        groups.add(batches);
        syncNanos.add(stages.syncNanos());
        this.stages.add(stages);
        if (entered.getCount() > 0) {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the first commit is held. */
    boolean awaitHeld() throws InterruptedException {
        return entered.await(10, TimeUnit.SECONDS);
    }

    void release() {
        release.countDown();
    }
}
