package dev.holdfast.client;

import io.grpc.Status;

/** Counters an {@link IntakeSession} reports to (bench statistics, shipper metrics). Called from session threads. */
public interface SessionListener {

    default void batchSent() {
    }

    /** A PERSISTED or DUPLICATE ack that arrived {@code latencyNanos} after its batch was sent. */
    default void acked(int events, long payloadBytes, long latencyNanos, boolean duplicate) {
    }

    /** A batch whose ack was lost with its stream but that the intake's Welcome reported as persisted. */
    default void resumedAsPersisted(int events, long payloadBytes) {
    }

    default void retryLater() {
    }

    default void invalid(String agentId, long seq, String message) {
    }

    /** An ack for a batch this session does not have outstanding (or a RETRY_LATER from an abandoned stream). */
    default void unexpectedAck() {
    }

    /** Connected again after a lost stream. */
    default void reconnected() {
    }

    default void streamFailed(Status status) {
    }

    /** Outstanding (sent or to be resent, unacknowledged) batches changed by {@code delta}. */
    default void inFlightDelta(long delta) {
    }
}
