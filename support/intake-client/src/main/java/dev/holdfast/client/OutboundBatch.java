package dev.holdfast.client;

/**
 * One batch ready for the wire: its seq is final (a resend carries the same seq, so the intake can recognise it).
 *
 * @param wireBytes    the encoded AgentMessage{batch: EventBatch{agent_id, batch_seq, events}}
 * @param payloadBytes the bytes of the events alone, for throughput figures
 */
public record OutboundBatch(long seq, byte[] wireBytes, int events, long payloadBytes) {
}
