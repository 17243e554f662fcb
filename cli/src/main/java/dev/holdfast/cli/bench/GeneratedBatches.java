package dev.holdfast.cli.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.holdfast.client.BatchSource;
import dev.holdfast.client.OutboundBatch;

import java.util.TreeSet;

/**
 * One simulated agent's batches: generated from the event pool on demand, paced by {@code --rate}, within the run's
 * budget. Acknowledgements go to the acked log. Used by the agent's session thread only.
 */
final class GeneratedBatches implements BatchSource {
    private static final Logger LOG = LoggerFactory.getLogger(GeneratedBatches.class);


    private final String agentId;
    private final BatchEncoder encoder;
    private final RunControl control;
    private final AckSink ackSink;
    /** Pacing for --rate: a new batch no earlier than nextBatchAtNanos; 0 = unpaced. */
    private final long batchIntervalNanos;
    private long nextBatchAtNanos;
    /** Seqs handed out and not yet answered, in unsigned order (batch_seq is a uint64). */
    private final TreeSet<Long> outstanding = new TreeSet<>(Long::compareUnsigned);

    private long nextSeq = 1;
    private long produced;
    private int eventCursor;
    private long invalidCount;

    /** @param firstBatchAtNanos with a rate, when the first batch is due (the clock's nanoseconds) */
    GeneratedBatches(String agentId, BatchEncoder encoder, RunControl control, AckSink ackSink,
                     long batchIntervalNanos, long firstBatchAtNanos) {
        this.agentId = agentId;
        this.encoder = encoder;
        this.control = control;
        this.ackSink = ackSink;
        this.batchIntervalNanos = batchIntervalNanos;
        this.nextBatchAtNanos = firstBatchAtNanos;
    }

    @Override
    public OutboundBatch next(long now) {
        if (!control.mayProduce(produced, now) || batchIntervalNanos > 0 && now - nextBatchAtNanos < 0) {
            return null;
        }
        if (batchIntervalNanos > 0) {
            // a fixed schedule; an agent that fell behind (outage, full window) catches up by one batch at most
            nextBatchAtNanos = Math.max(nextBatchAtNanos, now - batchIntervalNanos) + batchIntervalNanos;
        }
        BatchEncoder.EncodedBatch b = encoder.encode(agentId, nextSeq, eventCursor);
        eventCursor += encoder.eventsPerBatch();
        outstanding.add(nextSeq);
        nextSeq++;
        produced++;
        return new OutboundBatch(b.seq(), b.wireBytes(), b.events(), b.payloadBytes());
    }

    @Override
    public long nextDueNanos(long now, long maxWaitNanos) {
        return batchIntervalNanos > 0 ? Math.min(nextBatchAtNanos, now + maxWaitNanos) : now + maxWaitNanos;
    }

    @Override
    public boolean exhausted(long now) {
        return !control.mayProduce(produced, now);
    }

    @Override
    public boolean gaveUp(long now) {
        return control.gaveUp(now);
    }

    /**
     * Like a restarted agent continuing from its spool: if an earlier run with the same agent id already persisted
     * batches, start above them instead of sending nothing but duplicates.
     */
    @Override
    public void resumeAbove(long highest) {
        if (Long.compareUnsigned(highest, nextSeq) >= 0 && outstanding.isEmpty()) {
            if (highest == -1L) {
                LOG.error("agent {}: intake already holds seq 2^64-1, the highest there is: no seq is left above "
                        + "it, use another agent id", agentId);
                return;
            }
            LOG.info("agent {}: intake already holds batches up to {}, continuing at {}", agentId,
                    Long.toUnsignedString(highest), Long.toUnsignedString(highest + 1));
            nextSeq = highest + 1;
        }
    }

    @Override
    public void acknowledged(OutboundBatch batch) {
        outstanding.remove(batch.seq());
        ackSink.acknowledged(agentId, batch.seq());
    }

    @Override
    public void rejected(OutboundBatch batch, String why) {
        outstanding.remove(batch.seq());
        invalidCount++;
        if (invalidCount <= 5) {
            LOG.warn("agent {}: batch {} INVALID: {}", agentId, Long.toUnsignedString(batch.seq()), why);
        }
    }

    @Override
    public long acknowledgedThrough() {
        return (outstanding.isEmpty() ? nextSeq : outstanding.first()) - 1;
    }
}
