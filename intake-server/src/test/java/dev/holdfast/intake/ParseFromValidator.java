package dev.holdfast.intake;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.holdfast.forwarder.EventRecords;
import dev.holdfast.intake.auth.Quote;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The reference for {@link BatchValidator}: its validate() as it was before {@link EventBatchWalk}, materialising
 * the whole batch with {@code EventBatch.parseFrom}. Tests hold the walk to it.
 *
 * <p>One deliberate difference, chosen by {@link SizeMeasure}: the validator measures an event by its length in the
 * batch as sent (what the forwarder puts in Kafka); this oracle did, and with {@link SizeMeasure#RESERIALISED} still
 * does, measure {@code Event.getSerializedSize()}. {@link SizeMeasure#WIRE} takes each event's length from the batch
 * as the forwarder slices it, with the rest of the decision still made on the parsed batch.
 */
final class ParseFromValidator {
    enum SizeMeasure { RESERIALISED, WIRE }

    private final BatchValidator.Limits limits;
    private final EventSizeLimit eventSize;
    private final SizeMeasure measure;
    private final BatchValidator agentIds; // agentIdProblem is unchanged and not what is tested here

    ParseFromValidator(BatchValidator.Limits limits, EventSizeLimit eventSize, SizeMeasure measure) {
        this.limits = limits;
        this.eventSize = eventSize;
        this.measure = measure;
        this.agentIds = new BatchValidator(limits, eventSize);
    }

    BatchValidator.Result validate(byte[] bytes, long receivedAtEpochNanos, String expectedAgentId) {
        if (bytes.length > limits.maxBatchBytes()) {
            return new BatchValidator.Invalid(0, "batch is " + bytes.length + " bytes, over the limit of "
                    + limits.maxBatchBytes() + " bytes (limits.maxBatchBytes); split it");
        }
        int counted = BatchValidator.countEvents(bytes);
        if (counted > limits.maxEventsPerBatch()) {
            return new BatchValidator.Invalid(BatchValidator.peekBatchSeq(bytes), "batch has " + counted
                    + " events, over the limit of " + limits.maxEventsPerBatch() + " (limits.maxEventsPerBatch)");
        }
        EventBatch batch;
        try {
            batch = EventBatch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return new BatchValidator.Invalid(0, "malformed protobuf: not a holdfast.v1.EventBatch ("
                    + e.getMessage() + ")");
        }
        long seq = batch.getBatchSeq();
        String agent = batch.getAgentId();
        String agentProblem = agentIds.agentIdProblem("agent_id", agent);
        if (agentProblem != null) {
            return new BatchValidator.Invalid(seq, agentProblem);
        }
        int agentBytes = agent.getBytes(StandardCharsets.UTF_8).length;
        if (expectedAgentId != null && !expectedAgentId.equals(agent)) {
            return new BatchValidator.Invalid(seq, "agent_id " + Quote.prefix(agent)
                    + " does not match the stream's hello.agent_id " + Quote.prefix(expectedAgentId)
                    + "; a stream carries only its Hello's agent; nothing was written");
        }
        if (seq == 0) {
            return new BatchValidator.Invalid(0, "batch_seq must be at least 1");
        }
        int events = batch.getEventsCount();
        if (events == 0) {
            return new BatchValidator.Invalid(seq, "batch has no events");
        }
        if (!eventSize.unlimited()) {
            int max = eventSize.maxEventBytes(agentBytes);
            List<byte[]> wire = measure == SizeMeasure.WIRE ? wireEvents(bytes) : null;
            for (int i = 0; i < events; i++) {
                int size = wire != null ? wire.get(i).length : batch.getEvents(i).getSerializedSize();
                if (size > max) {
                    return new BatchValidator.Invalid(seq, eventSize.refusal(i, size, agentBytes)
                            + "; nothing of this batch was written");
                }
            }
        }
        return new BatchValidator.Valid(new BatchHeader(agent, seq, events, priorityOf(batch), receivedAtEpochNanos),
                bytes);
    }

    /** A batch is as important as its most important event: shedding it must not drop a CRITICAL event. */
    static BatchPriority priorityOf(EventBatch batch) {
        BatchPriority highest = BatchPriority.BULK;
        for (Event e : batch.getEventsList()) {
            Priority p = e.getPriority();
            if (p == Priority.CRITICAL) {
                return BatchPriority.CRITICAL;
            }
            if (p != Priority.BULK) {
                highest = BatchPriority.NORMAL; // NORMAL, and UNSPECIFIED read as NORMAL
            }
        }
        return highest;
    }

    /** Each event's bytes as the forwarder sends them (EventRecords.sliceEvents): only for a batch that parsed. */
    static List<byte[]> wireEvents(byte[] batch) {
        try {
            return EventRecords.sliceEvents(batch);
        } catch (IOException e) {
            throw new IllegalStateException("a batch that parsed did not slice", e);
        }
    }
}
