package dev.holdfast.intake.grpc;

/**
 * What arrived on the stream, decoded only as far as the intake needs: a batch stays as the exact bytes the agent
 * sent, because those bytes are what the WAL stores.
 */
sealed interface InboundMessage {
    /** @param acknowledgedThrough the agent claims every seq up to this one is durable somewhere (0 = no claim) */
    record Hello(String agentId, long acknowledgedThrough) implements InboundMessage {
    }

    record Batch(byte[] bytes) implements InboundMessage {
    }

    /** Bytes that are not a valid AgentMessage; answered INVALID instead of failing the whole stream. */
    record Malformed(String reason) implements InboundMessage {
    }

    /**
     * A well-formed AgentMessage that says more than one thing (hello and batch, or one of them twice). Protobuf
     * would let the last field win; the intake refuses rather than guess which one the agent meant.
     */
    record Ambiguous(String reason) implements InboundMessage {
    }
}
