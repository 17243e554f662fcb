package dev.holdfast.shipper;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import com.google.protobuf.CodedOutputStream;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.client.BatchSource;
import dev.holdfast.client.OutboundBatch;
import dev.holdfast.shipper.spool.Spool;
import dev.holdfast.shipper.spool.SpooledBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shipper's {@link BatchSource}: batches come out of the spool (seqs assigned there, durably) and leave it only
 * when the intake acknowledges them. A previous run's unacknowledged batches are simply the spool's oldest unsent
 * ones, streamed like the rest rather than loaded at once. Used by the session thread only;
 * {@link #rejectedBatches()} from any thread.
 */
final class SpoolBatches implements BatchSource {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolBatches.class);


    private final String agentId;
    private final Spool spool;
    private final AtomicLong rejected = new AtomicLong();

    SpoolBatches(String agentId, Spool spool) {
        this.agentId = agentId;
        this.spool = spool;
    }

    @Override
    public OutboundBatch next(long nowNanos) {
        SpooledBatch b = spool.nextToSend();
        return b == null ? null : new OutboundBatch(b.seq(), agentMessage(b.wireBytes(agentId)), b.eventCount(), b.encodedEvents().length);
    }

    /** AgentMessage{batch = eventBatch}, without re-encoding the batch. */
    static byte[] agentMessage(byte[] eventBatch) {
        int size = CodedOutputStream.computeTagSize(AgentMessage.BATCH_FIELD_NUMBER)
                + CodedOutputStream.computeUInt32SizeNoTag(eventBatch.length) + eventBatch.length;
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            o.writeByteArray(AgentMessage.BATCH_FIELD_NUMBER, eventBatch);
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    @Override
    public boolean exhausted(long nowNanos) {
        return false; // a shipper ships until it is stopped
    }

    @Override
    public void resumeAbove(long highestPersisted) {
        spool.resumeAbove(highestPersisted);
    }

    @Override
    public void acknowledged(OutboundBatch batch) {
        spool.acknowledge(batch.seq());
    }

    @Override
    public void rejected(OutboundBatch batch, String why) {
        // The intake will never take these bytes; keeping them would block nothing (acks are per batch) but would
        // fill the spool forever. Counted and logged, never silent.
        spool.acknowledge(batch.seq());
        if (rejected.incrementAndGet() <= 5) {
            LOG.warn("intake refused batch {} ({} events) as INVALID: {}", Long.toUnsignedString(batch.seq()),
                    batch.events(), why);
        }
    }

    long rejectedBatches() {
        return rejected.get();
    }

    @Override
    public long acknowledgedThrough() {
        return spool.acknowledgedThrough();
    }
}
