package dev.holdfast.cli.bench;

import dev.holdfast.client.SessionListener;
import io.grpc.Status;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and the ack-latency histogram shared by all agents. Agents only add; the progress
 * reporter and the final report read snapshots, so no agent ever waits on a reader.
 */
final class BenchStats implements SessionListener {

    /** Kept to bound memory and terminal spam when an intake rejects everything. */
    private static final int MAX_INVALID_MESSAGES = 20;

    private final LongAdder batchesAcked = new LongAdder();
    private final LongAdder eventsAcked = new LongAdder();
    private final LongAdder payloadBytesAcked = new LongAdder();
    private final LongAdder resumedFromWelcome = new LongAdder();
    private final LongAdder batchesSent = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder invalid = new LongAdder();
    private final LongAdder unexpectedAcks = new LongAdder();
    private final LongAdder reconnects = new LongAdder();
    private final LongAdder streamFailures = new LongAdder();
    private final AtomicLong inFlight = new AtomicLong();
    private final List<String> invalidMessages = new ArrayList<>();
    // 1 µs .. 1 h with 3 significant digits; Recorder lets agents record without locking
    private final Recorder latencyMicros = new Recorder(3_600_000_000L, 3);

    @Override
    public void batchSent() {
        batchesSent.increment();
    }

    /** A PERSISTED or DUPLICATE ack that arrived {@code latencyNanos} after its batch was sent. */
    @Override
    public void acked(int events, long payloadBytes, long latencyNanos, boolean duplicate) {
        batchesAcked.increment();
        eventsAcked.add(events);
        payloadBytesAcked.add(payloadBytes);
        if (duplicate) {
            duplicates.increment();
        }
        latencyMicros.recordValue(Math.max(0, Math.min(latencyNanos / 1_000, 3_600_000_000L)));
    }

    /** A batch whose ack was lost but that the intake's Welcome reported as persisted. */
    @Override
    public void resumedAsPersisted(int events, long payloadBytes) {
        batchesAcked.increment();
        eventsAcked.add(events);
        payloadBytesAcked.add(payloadBytes);
        resumedFromWelcome.increment();
    }

    @Override
    public void retryLater() {
        retries.increment();
    }

    @Override
    public void invalid(String agentId, long seq, String message) {
        invalid.increment();
        synchronized (invalidMessages) {
            if (invalidMessages.size() < MAX_INVALID_MESSAGES) {
                invalidMessages.add(agentId + " seq " + Long.toUnsignedString(seq) + ": " + message);
            }
        }
    }

    @Override
    public void unexpectedAck() {
        unexpectedAcks.increment();
    }

    @Override
    public void reconnected() {
        reconnects.increment();
    }

    @Override
    public void streamFailed(Status status) {
        streamFailures.increment();
    }

    @Override
    public void inFlightDelta(long delta) {
        inFlight.addAndGet(delta);
    }

    /** Drops latency recorded so far (warmup) and returns the counters at this instant. */
    Snapshot startMeasurement() {
        latencyMicros.reset();
        return snapshot();
    }

    /** Latency recorded since {@link #startMeasurement()} (or since creation). */
    Histogram takeLatency() {
        return latencyMicros.getIntervalHistogram();
    }

    Snapshot snapshot() {
        return new Snapshot(batchesAcked.sum(), eventsAcked.sum(), payloadBytesAcked.sum(),
                resumedFromWelcome.sum(), batchesSent.sum(), retries.sum(), duplicates.sum(), invalid.sum(),
                unexpectedAcks.sum(), reconnects.sum(), streamFailures.sum(), inFlight.get());
    }

    List<String> invalidMessages() {
        synchronized (invalidMessages) {
            return List.copyOf(invalidMessages);
        }
    }

    record Snapshot(long batchesAcked, long eventsAcked, long payloadBytesAcked, long resumedFromWelcome,
                    long batchesSent, long retries, long duplicates, long invalid, long unexpectedAcks,
                    long reconnects, long streamFailures, long inFlight) {
    }
}
