package dev.holdfast.intake;

import dev.holdfast.forwarder.ForwardLimit;

/**
 * The largest event the intake accepts: {@code limits.maxEventBytes} when set, and never more than the forwarder can
 * get into Kafka, so nothing is acknowledged that could only be dead-lettered. The forwarder's part can tighten
 * while the intake runs (it learns the topic's {@code max.message.bytes} from Kafka).
 */
public final class EventSizeLimit {
    /** No limit beyond the batch's own. */
    public static final EventSizeLimit NONE = new EventSizeLimit(0, null);

    private final long configured;
    private final ForwardLimit forward;

    /**
     * @param configured {@code limits.maxEventBytes}, 0 when not set
     * @param forward    the forwarder's limit, null when the intake does not forward
     */
    public EventSizeLimit(long configured, ForwardLimit forward) {
        this.configured = configured;
        this.forward = forward;
    }

    /**
     * The largest event accepted from an agent with an id of this many bytes; computed once per batch. OTLP takes it
     * as the largest resource, which becomes one Kafka record.
     */
    public int maxEventBytes(int agentIdBytes) {
        long max = configured > 0 ? configured : Integer.MAX_VALUE;
        if (forward != null) {
            max = Math.min(max, forward.maxEventBytes(agentIdBytes));
        }
        return (int) max;
    }

    /** Null when an event of this size is accepted from this agent, else why not (for the INVALID ack). */
    String refusal(int eventNumber, int eventBytes, int agentIdBytes) {
        if (configured > 0 && eventBytes > configured) {
            return "event " + eventNumber + " is " + eventBytes + " bytes, over the limit of " + configured
                    + " bytes (limits.maxEventBytes)";
        }
        if (forward != null) {
            int max = forward.maxEventBytes(agentIdBytes);
            if (eventBytes > max) {
                return "event " + eventNumber + " is " + eventBytes + " bytes, more than Kafka will take: at most "
                        + max + " bytes (" + forward.explain(agentIdBytes) + ")";
            }
        }
        return null;
    }

    boolean unlimited() {
        return configured <= 0 && forward == null;
    }
}
