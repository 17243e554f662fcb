package dev.holdfast.wal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Writes the writer's checkpoints of agent sequences on a thread of its own ({@code wal-checkpoint}).
 *
 * <p>Why: a checkpoint is a file written, fsync'ed and renamed, and its fsync waits for the file system's journal
 * like any other. On the writer's thread every batch queued behind it waited too. The writer still takes the
 * snapshot itself ({@link SequenceSnapshots#encode}, in memory), so it covers exactly the records appended so far;
 * only the I/O moves here. One checkpoint at a time: while one is being written, the writer keeps appending and
 * offers the next after a later group.
 */
final class Checkpointer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

    private final SequenceSnapshots snapshots;
    private final CommitListener listener;
    /** Monotonic nanoseconds: how long a checkpoint took. */
    private final LongSupplier nanoClock;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "wal-checkpoint");
        t.setDaemon(true);
        return t;
    });
    /** The checkpoint being written, if any. Writer thread only. */
    private CompletableFuture<Void> inflight = CompletableFuture.completedFuture(null);

    Checkpointer(SequenceSnapshots snapshots, CommitListener listener, LongSupplier nanoClock) {
        this.snapshots = snapshots;
        this.listener = listener;
        this.nanoClock = nanoClock;
    }

    /** Whether the last checkpoint has been written, so another may be offered. Writer thread. */
    boolean idle() {
        return inflight.isDone();
    }

    /**
     * Writes {@code body} (from {@link SequenceSnapshots#encode}) in the background once {@code covered} completes:
     * the sync of the records it covers. A checkpoint ahead of the disk would name batches a power loss took as held,
     * and their resends would be answered DUPLICATE; if that sync fails, the checkpoint is not written. Writer thread;
     * when idle.
     */
    void write(byte[] body, CompletableFuture<Void> covered) {
        if (!idle()) {
            throw new IllegalStateException("a checkpoint is still being written");
        }
        inflight = covered.thenRunAsync(() -> {
            long t0 = nanoClock.getAsLong();
            if (snapshots.write(body) > 0) {
                listener.checkpointed(nanoClock.getAsLong() - t0);
            }
        }, thread);
    }

    /** Waits up to {@code seconds} for the checkpoint being written; false if it is still being written. */
    boolean awaitIdle(long seconds) throws InterruptedException {
        try {
            inflight.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            log.warn("checkpoint not written (the next start scans more of the WAL): {}", e.getCause().toString());
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
