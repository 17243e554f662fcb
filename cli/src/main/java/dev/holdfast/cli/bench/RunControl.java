package dev.holdfast.cli.bench;

/**
 * When agents may produce new batches and when they must give up on outstanding ones. Shared by
 * all agents; immutable except for the abort flag (Ctrl-C) and an early finish (--stop-file).
 */
final class RunControl {

    private final long batchesPerAgent;
    private final boolean byDuration;
    private final long stopProducingAtNanos;
    private final long giveUpAtNanos;
    private volatile boolean aborted;
    /** Set by {@link #finish}: production ends then, and outstanding batches get the usual drain time. */
    private volatile long finishedAtNanos;
    private volatile boolean finished;

    private RunControl(long batchesPerAgent, boolean byDuration, long stopProducingAtNanos, long giveUpAtNanos) {
        this.batchesPerAgent = batchesPerAgent;
        this.byDuration = byDuration;
        this.stopProducingAtNanos = stopProducingAtNanos;
        this.giveUpAtNanos = giveUpAtNanos;
    }

    /** Each agent produces exactly {@code batches} and waits (forever, across restarts) for their acks. */
    static RunControl byBatches(long batches) {
        return new RunControl(batches, false, 0, 0);
    }

    /** Produce until {@code stopAtNanos}, then wait at most {@code drainNanos} for outstanding acks. */
    static RunControl byDuration(long stopAtNanos, long drainNanos) {
        return new RunControl(Long.MAX_VALUE, true, stopAtNanos, stopAtNanos + drainNanos);
    }

    boolean mayProduce(long producedByAgent, long nowNanos) {
        if (aborted || producedByAgent >= batchesPerAgent) {
            return false;
        }
        return !finished && (!byDuration || nowNanos - stopProducingAtNanos < 0);
    }

    /** True once unacknowledged batches should be abandoned (reported, exit code 1). */
    boolean gaveUp(long nowNanos) {
        if (aborted) {
            return true;
        }
        long giveUpAt = giveUpAtNanos;
        if (finished && byDuration) {
            giveUpAt = Math.min(giveUpAt, finishedAtNanos + (giveUpAtNanos - stopProducingAtNanos));
        }
        return byDuration && nowNanos - giveUpAt >= 0;
    }

    boolean byDuration() {
        return byDuration;
    }

    long stopProducingAtNanos() {
        return finished && finishedAtNanos - stopProducingAtNanos < 0 ? finishedAtNanos : stopProducingAtNanos;
    }

    /** Stops production now, as if the duration had ended: outstanding batches are still waited for. */
    void finish(long nowNanos) {
        finishedAtNanos = nowNanos;
        finished = true;
    }

    void abort() {
        aborted = true;
    }

    boolean aborted() {
        return aborted;
    }
}
