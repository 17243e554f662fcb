package dev.holdfast.intake.grpc;

/**
 * What arrived on the stream, decoded only as far as the intake needs: a batch stays as the exact bytes the agent
 * sent, because those bytes are what the WAL stores.
 */
sealed interface InboundMessage {
    /** @param acknowledgedThrough the agent holds nothing at or below this seq (0 = unknown) */
    record Hello(String agentId, long acknowledgedThrough) implements InboundMessage {
    }

    record Batch(byte[] bytes) implements InboundMessage {
    }

    /** Bytes that are not a valid AgentMessage; answered INVALID instead of failing the whole stream. */
    record Malformed(String reason) implements InboundMessage {
    }
}
