package dev.holdfast.intake;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;

import java.nio.charset.StandardCharsets;

/**
 * Decides whether a batch may enter the WAL, with a message precise enough for the sender to fix it. Nothing is
 * written for a batch it refuses.
 */
public final class BatchValidator {

    public record Limits(int maxBatchBytes, int maxEventsPerBatch, int maxAgentIdBytes) {
    }

    /** Outcome of validation. */
    public sealed interface Result permits Valid, Invalid {
    }

    /** A batch fit for the WAL: its header and its bytes as received. */
    public record Valid(BatchHeader header, byte[] bytes) implements Result {
    }

    /** @param batchSeq best effort: 0 when the bytes were too broken to tell */
    public record Invalid(long batchSeq, String message) implements Result {
    }

    private final Limits limits;
    private final EventSizeLimit eventSize;

    public BatchValidator(Limits limits) {
        this(limits, EventSizeLimit.NONE);
    }

    public BatchValidator(Limits limits, EventSizeLimit eventSize) {
        this.limits = limits;
        this.eventSize = eventSize;
    }

    /** @param expectedAgentId when not null, the batch must carry this agent id */
    public Result validate(byte[] bytes, long receivedAtEpochNanos, String expectedAgentId) {
        if (bytes.length > limits.maxBatchBytes()) {
            return new Invalid(0, "batch is " + bytes.length + " bytes, over the limit of "
                    + limits.maxBatchBytes() + " bytes (limits.maxBatchBytes); split it");
        }
        EventBatch batch;
        try {
            batch = EventBatch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return new Invalid(0, "malformed protobuf: not a holdfast.v1.EventBatch (" + e.getMessage() + ")");
        }
        long seq = batch.getBatchSeq();
        String agent = batch.getAgentId();
        if (agent.isEmpty()) {
            return new Invalid(seq, "agent_id is empty");
        }
        int agentBytes = agent.getBytes(StandardCharsets.UTF_8).length;
        if (agentBytes > limits.maxAgentIdBytes()) {
            return new Invalid(seq, "agent_id is " + agentBytes + " bytes, over the limit of "
                    + limits.maxAgentIdBytes() + " (limits.maxAgentIdBytes)");
        }
        if (expectedAgentId != null && !expectedAgentId.equals(agent)) {
            return new Invalid(seq, "agent_id \"" + agent + "\" does not match the stream's hello.agent_id \""
                    + expectedAgentId + "\"");
        }
        if (seq == 0) {
            return new Invalid(0, "batch_seq must be at least 1");
        }
        int events = batch.getEventsCount();
        if (events == 0) {
            return new Invalid(seq, "batch has no events");
        }
        if (events > limits.maxEventsPerBatch()) {
            return new Invalid(seq, "batch has " + events + " events, over the limit of "
                    + limits.maxEventsPerBatch() + " (limits.maxEventsPerBatch)");
        }
        if (!eventSize.unlimited()) {
            for (int i = 0; i < events; i++) {
                String refusal = eventSize.refusal(i, batch.getEvents(i).getSerializedSize(), agentBytes);
                if (refusal != null) {
                    return new Invalid(seq, refusal + "; nothing of this batch was written");
                }
            }
        }
        return new Valid(new BatchHeader(agent, seq, events, priorityOf(batch), receivedAtEpochNanos), bytes);
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
}
