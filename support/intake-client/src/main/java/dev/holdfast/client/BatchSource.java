package dev.holdfast.client;

import java.util.List;

/**
 * What an {@link IntakeSession} sends: the bench's generated batches or the shipper's spool. Called only from the
 * session's thread.
 */
public interface BatchSource {

    /** Batches handed out by an earlier run and never acknowledged: sent first, with their seqs, before anything new. */
    default List<OutboundBatch> recovered() {
        return List.of();
    }

    /** The next new batch with its seq assigned, or null when none is ready now. */
    OutboundBatch next(long nowNanos);

    /** When {@link #next} may next return a batch, if it knows (pacing); otherwise {@code nowNanos + maxWait}. */
    default long nextDueNanos(long nowNanos, long maxWaitNanos) {
        return nowNanos + maxWaitNanos;
    }

    /** True once the source will produce nothing more; the session ends when nothing is outstanding either. */
    boolean exhausted(long nowNanos);

    /** True once outstanding batches should be abandoned (the session ends at once). */
    default boolean gaveUp(long nowNanos) {
        return false;
    }

    /**
     * The intake already holds batches up to {@code highestPersisted} that this source did not hand out in this run
     * (an earlier run of the same agent id): seqs handed out from now on must be above it.
     */
    void resumeAbove(long highestPersisted);

    /** Durable at the intake (PERSISTED, DUPLICATE, or reported persisted by a Welcome). */
    void acknowledged(OutboundBatch batch);

    /** Refused as INVALID: resending cannot help, so the source forgets it (and should say so). */
    void rejected(OutboundBatch batch, String why);

    /** The lowest seq that is not yet acknowledged minus one: sent in Hello so a new intake node skips the gap. */
    long acknowledgedThrough();
}
