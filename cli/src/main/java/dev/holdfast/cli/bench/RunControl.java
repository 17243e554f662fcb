package dev.holdfast.cli.bench;

/**
 * When agents may produce new batches and when they must give up on outstanding ones. Shared by
 * all agents; immutable except for the abort flag (Ctrl-C).
 */
final class RunControl {

    private final long batchesPerAgent;
    private final boolean byDuration;
    private final long stopProducingAtNanos;
    private final long giveUpAtNanos;
    private volatile boolean aborted;

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
        return !byDuration || nowNanos - stopProducingAtNanos < 0;
    }

    /** True once unacknowledged batches should be abandoned (reported, exit code 1). */
    boolean gaveUp(long nowNanos) {
        return aborted || (byDuration && nowNanos - giveUpAtNanos >= 0);
    }

    boolean byDuration() {
        return byDuration;
    }

    long stopProducingAtNanos() {
        return stopProducingAtNanos;
    }

    void abort() {
        aborted = true;
    }

    boolean aborted() {
        return aborted;
    }
}
