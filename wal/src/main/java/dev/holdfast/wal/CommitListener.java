package dev.holdfast.wal;

/**
 * Observes each group commit; the intake turns these into metrics. Called on the sync thread at fsync durability
 * ({@link GroupSyncer}: once per sync, which may cover several groups), on the writer thread at written durability,
 * and on the checkpoint thread for checkpoints: keep it cheap.
 */
public interface CommitListener {
    CommitListener NONE = (batches, events, bytes, stages) -> { };

    /**
     * Where a group's time went, for finding what an acknowledgement waits for.
     *
     * @param waitNanos     how long the longest-waiting batch was queued for the writer (0 for an empty group)
     * @param appendNanos   time spent appending
     * @param syncWaitNanos from the end of the first group's append to the start of its sync: the sync in flight
     *                      it waited for, and any wait for company; 0 at written durability
     * @param syncNanos     time spent in msync, 0 at written durability or when nothing was appended
     */
    record Stages(long waitNanos, long appendNanos, long syncWaitNanos, long syncNanos) {
    }

    /**
     * @param batches batches appended in the groups of this commit (duplicates and rejections excluded)
     * @param events  events in those batches
     * @param bytes   record bytes appended
     */
    void committed(int batches, long events, long bytes, Stages stages);

    /** A checkpoint was written and fsync'ed (on the checkpoint thread, see {@link Checkpointer}), taking this long. */
    default void checkpointed(long nanos) {
    }
}
