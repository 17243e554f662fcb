package dev.holdfast.intake;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.holdfast.intake.auth.Quote;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.BatchHeader;

import java.io.IOException;
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
        // counted before the walk, reading only top-level tags and lengths: a batch over the limit is refused as
        // such (and cheaply: 2 million empty events fit in 4 MB) whatever else is wrong inside its events
        int counted = countEvents(bytes);
        if (counted > limits.maxEventsPerBatch()) {
            return new Invalid(peekBatchSeq(bytes), "batch has " + counted + " events, over the limit of "
                    + limits.maxEventsPerBatch() + " (limits.maxEventsPerBatch)");
        }
        EventBatchWalk batch;
        try {
            // one pass over the bytes, refusing what EventBatch.parseFrom refuses without making an object per event
            batch = EventBatchWalk.walk(bytes);
        } catch (InvalidProtocolBufferException e) {
            return new Invalid(0, "malformed protobuf: not a holdfast.v1.EventBatch (" + e.getMessage() + ")");
        }
        long seq = batch.batchSeq();
        String agent = batch.agentId();
        String agentProblem = agentIdProblem("agent_id", agent);
        if (agentProblem != null) {
            return new Invalid(seq, agentProblem);
        }
        int agentBytes = agent.getBytes(StandardCharsets.UTF_8).length;
        if (expectedAgentId != null && !expectedAgentId.equals(agent)) {
            // quoted short: the ids come from the client and can be limits.maxAgentIdBytes long
            return new Invalid(seq, "agent_id " + Quote.prefix(agent) + " does not match the stream's hello.agent_id "
                    + Quote.prefix(expectedAgentId) + "; a stream carries only its Hello's agent; nothing was written");
        }
        if (seq == 0) {
            return new Invalid(0, "batch_seq must be at least 1");
        }
        int events = batch.events();
        if (events == 0) {
            return new Invalid(seq, "batch has no events");
        }
        if (!eventSize.unlimited()) {
            int max = eventSize.maxEventBytes(agentBytes); // once per batch; the message only for a refusal
            // An event's size is its length in the batch as sent, not its size re-serialised: the forwarder puts
            // exactly those bytes in Kafka (EventRecords slices them out), and ForwardLimit bounds them. The two
            // differ only for an event whose bytes protobuf would not write that way (a field repeated, a default
            // value written out, a varint padded).
            if (batch.largestEventBytes() > max) {
                EventBatchWalk again; // which event, for the message: a second walk, only for a refusal
                try {
                    again = EventBatchWalk.walk(bytes, max);
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException("the same bytes walked twice, refused once", e);
                }
                return new Invalid(seq, eventSize.refusal(again.firstEventOver(), again.firstEventOverBytes(),
                        agentBytes) + "; nothing of this batch was written");
            }
        }
        return new Valid(new BatchHeader(agent, seq, events, batch.priority(), receivedAtEpochNanos), bytes);
    }

    /**
     * The number of {@code events} fields at the top level of the batch, reading only tags and lengths (nothing is
     * allocated per event); bytes that are not a well-formed message count as 0 here (the parse that follows names
     * what is wrong).
     */
    static int countEvents(byte[] bytes) {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        int n = 0;
        try {
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == EventBatch.EVENTS_FIELD_NUMBER) {
                    n++;
                }
                in.skipField(tag);
            }
        } catch (IOException e) {
            return 0;
        }
        return n;
    }

    /**
     * The agent_id of EventBatch bytes as the full parse will read it (the last occurrence of the field wins, as in
     * protobuf), for deciding whether the caller may send as that agent before anything else is done with the batch;
     * null when the bytes are too broken to tell.
     */
    public static String peekAgentId(byte[] eventBatch) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(eventBatch);
            String agent = "";
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == EventBatch.AGENT_ID_FIELD_NUMBER
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    agent = in.readStringRequireUtf8();
                } else {
                    in.skipField(tag);
                }
            }
            return agent;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The batch_seq of EventBatch bytes, for answering a batch the intake will not read further; 0 when the bytes
     * are too broken to tell.
     */
    public static long peekBatchSeq(byte[] eventBatch) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(eventBatch);
            long seq = 0;
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == EventBatch.BATCH_SEQ_FIELD_NUMBER
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                    seq = in.readUInt64();
                } else {
                    in.skipField(tag);
                }
            }
            return seq;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Null when {@code agentId} may name an agent, else why not, without quoting it (an id can be as long as a whole
     * message). The same rule for a batch's agent_id and a Hello's or Resume's: an id the intake would refuse in a
     * batch must not get as far as its per-agent state, its checkpoint or an ack.
     */
    public String agentIdProblem(String field, String agentId) {
        if (agentId.isEmpty()) {
            return field + " is empty";
        }
        int bytes = agentId.length() > limits.maxAgentIdBytes() * 4 ? Integer.MAX_VALUE // no need to encode it all
                : agentId.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxAgentIdBytes()) {
            return field + " is " + (bytes == Integer.MAX_VALUE ? "over " + limits.maxAgentIdBytes() * 4 : bytes)
                    + " bytes, over the limit of " + limits.maxAgentIdBytes() + " (limits.maxAgentIdBytes)";
        }
        return null;
    }
}
