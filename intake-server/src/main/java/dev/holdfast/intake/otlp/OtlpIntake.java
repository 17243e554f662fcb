package dev.holdfast.intake.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.holdfast.intake.BatchIntake;
import dev.holdfast.intake.EventSizeLimit;
import dev.holdfast.intake.InflightBytes;
import dev.holdfast.otlp.OtlpSignal;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.Wal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The durability path of an OTLP export, the same as a holdfast.v1 batch's ({@link BatchIntake}): size and parse
 * checks, disk guard and in-flight admission by priority, one WAL record per request (its bytes as received, tagged
 * with the signal), group commit, and success only once that record is durable at the configured level (Kafka's
 * confirmation too at {@code replicated}). Nothing here blocks.
 */
public final class OtlpIntake {
    private final Wal wal;
    private final InflightBytes inflight;
    private final BatchIntake.ReplicationGate replication;
    private final OtlpRequests requests;
    private final long maxRequestBytes;
    private final EventSizeLimit recordLimit;
    private final long overloadRetryAfterMs;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
    private final Map<OtlpSignal, Counter> items = new EnumMap<>(OtlpSignal.class);

    /**
     * @param maxRequestBytes the largest request taken (after decompression): {@code limits.maxBatchBytes}
     * @param recordLimit     the largest Kafka record value: each resource of a request becomes one, and one larger
     *                        is left out (partial success) rather than acknowledged and then dead-lettered
     */
    public OtlpIntake(Wal wal, InflightBytes inflight, BatchIntake.ReplicationGate replication,
                      OtlpPriorities priorities, long maxRequestBytes, EventSizeLimit recordLimit,
                      long overloadRetryAfterMs, Clock clock, MeterRegistry registry) {
        this.recordLimit = recordLimit;
        this.wal = wal;
        this.inflight = inflight;
        this.replication = replication;
        this.requests = new OtlpRequests(priorities);
        this.maxRequestBytes = maxRequestBytes;
        this.overloadRetryAfterMs = overloadRetryAfterMs;
        this.clock = clock;
        this.registry = registry;
        for (OtlpSignal s : OtlpSignal.values()) {
            items.put(s, Counter.builder("otlp.items.persisted").tag("signal", s.configName())
                    .description("OTLP log records, spans and data points persisted").register(registry));
            for (String outcome : new String[]{"success", "partial", "invalid", "overloaded", "unavailable"}) {
                outcome(s, outcome); // every counter exists from the start, at 0
            }
        }
    }

    /** The largest request taken, in bytes; a listener stops reading (or inflating) a body beyond it. */
    public long maxRequestBytes() {
        return maxRequestBytes;
    }

    /** Counts a request a listener refused before it could be read whole (over the limit, damaged gzip). */
    public OtlpResult.Invalid refused(OtlpSignal signal, String message) {
        OtlpResult.Invalid invalid = new OtlpResult.Invalid(message);
        count(signal, invalid);
        return invalid;
    }

    /**
     * Counts a request a listener shed before it could be read whole (its body would take more than the listener may
     * hold in bodies being received), and says when to retry: the overload delay, jittered.
     */
    public OtlpResult.RetryLater shed(OtlpSignal signal, String message) {
        OtlpResult.RetryLater later = new OtlpResult.RetryLater(BatchIntake.jitter(overloadRetryAfterMs), message,
                true);
        count(signal, later);
        return later;
    }

    /**
     * @param request the request's protobuf bytes as received (after gzip is undone)
     * @param agentId who sent it, as the WAL and Kafka headers name it: the caller's identity, or "otlp"
     */
    public CompletableFuture<OtlpResult> accept(OtlpSignal signal, byte[] request, String agentId) {
        try (Wal.Arrival ignored = wal.arriving()) { // a sync about to start waits for it (see Wal#arriving)
            return parseAndAdmit(signal, request, agentId);
        }
    }

    private CompletableFuture<OtlpResult> parseAndAdmit(OtlpSignal signal, byte[] request, String agentId) {
        if (request.length > maxRequestBytes) {
            return done(signal, new OtlpResult.Invalid("OTLP " + signal.configName() + " request is " + request.length
                    + " bytes, over the limit of " + maxRequestBytes + " (limits.maxBatchBytes)"));
        }
        Message parsed;
        try {
            parsed = signal.parseRequest(request);
        } catch (InvalidProtocolBufferException e) {
            return done(signal, new OtlpResult.Invalid("not a valid OTLP " + signal.configName() + " request: "
                    + e.getMessage()));
        }
        return admit(signal, parsed, request, agentId);
    }

    /**
     * A request already parsed (from OTLP/JSON); {@code bytes} are its protobuf encoding, or null to encode it here.
     */
    public CompletableFuture<OtlpResult> accept(OtlpSignal signal, Message parsed, byte[] bytes, String agentId) {
        try (Wal.Arrival ignored = wal.arriving()) {
            return admit(signal, parsed, bytes, agentId);
        }
    }

    private CompletableFuture<OtlpResult> admit(OtlpSignal signal, Message parsed, byte[] bytes, String agentId) {
        OtlpRequests.Inspection inspection = requests.inspect(signal, parsed,
                recordLimit.maxEventBytes(agentId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
        byte[] stored = inspection.rejected() == 0 && bytes != null ? bytes : inspection.usable().toByteArray();
        OtlpResult.Accepted success = inspection.rejected() == 0 ? OtlpResult.Accepted.ALL
                : new OtlpResult.Accepted(inspection.rejected(), inspection.reason());
        if (inspection.items() == 0) {
            return done(signal, success); // nothing to keep (an empty export, or every item unusable)
        }
        String refusal = wal.guard().refusal(inspection.priority(), stored.length);
        if (refusal != null) {
            return done(signal, new OtlpResult.RetryLater(BatchIntake.jitter(wal.guard().retryAfterMs()), refusal,
                    true));
        }
        InflightBytes.Refusal overload = inflight.tryAcquire(agentId, stored.length);
        if (overload != InflightBytes.Refusal.NONE) {
            return done(signal, new OtlpResult.RetryLater(BatchIntake.jitter(overloadRetryAfterMs),
                    overload == InflightBytes.Refusal.AGENT_SHARE
                            ? "intake busy: this sender holds its share of the in-flight byte limit"
                            + " (limits.maxInflightBytes)"
                            : "intake overloaded: in-flight byte limit reached (limits.maxInflightBytes)", true));
        }
        BatchHeader header = new BatchHeader(agentId, 0, (int) Math.min(Integer.MAX_VALUE, inspection.items()),
                inspection.priority(), clock.millis() * 1_000_000L, kind(signal));
        int admitted = stored.length;
        return wal.append(header, stored)
                .thenCompose(r -> r.status() == AppendResult.Status.PERSISTED
                        ? replication.confirmed(r.index()).thenApply(v -> r)
                        : CompletableFuture.completedFuture(r))
                .handle((r, error) -> {
                    inflight.release(agentId, admitted);
                    OtlpResult result;
                    if (error != null) {
                        result = new OtlpResult.RetryLater(BatchIntake.jitter(overloadRetryAfterMs),
                                "WAL error: " + error, false);
                    } else {
                        result = switch (r.status()) {
                            case PERSISTED -> {
                                items.get(signal).increment(inspection.items());
                                yield success;
                            }
                            case TOO_LARGE -> new OtlpResult.Invalid(r.message());
                            case REJECTED -> new OtlpResult.RetryLater(BatchIntake.jitter(r.retryAfterMs()),
                                    r.message(), !r.message().startsWith("WAL"));
                            // unsequenced records are never compared with what the WAL holds
                            case DUPLICATE, CONFLICT -> throw new IllegalStateException("OTLP request answered "
                                    + r.status() + " by the WAL");
                        };
                    }
                    count(signal, result);
                    return result;
                });
    }

    public static RecordKind kind(OtlpSignal signal) {
        return switch (signal) {
            case LOGS -> RecordKind.OTLP_LOGS;
            case TRACES -> RecordKind.OTLP_TRACES;
            case METRICS -> RecordKind.OTLP_METRICS;
        };
    }

    private CompletableFuture<OtlpResult> done(OtlpSignal signal, OtlpResult result) {
        count(signal, result);
        return CompletableFuture.completedFuture(result);
    }

    private void count(OtlpSignal signal, OtlpResult result) {
        String outcome;
        if (result instanceof OtlpResult.Accepted a) {
            outcome = a.rejected() == 0 ? "success" : "partial";
        } else if (result instanceof OtlpResult.RetryLater l) {
            outcome = l.overloaded() ? "overloaded" : "unavailable";
        } else {
            outcome = "invalid";
        }
        outcome(signal, outcome).increment();
    }

    private Counter outcome(OtlpSignal signal, String outcome) {
        return outcomes.computeIfAbsent(signal.configName() + "/" + outcome, k -> Counter.builder("otlp.requests")
                .tag("signal", signal.configName()).tag("outcome", outcome)
                .description("OTLP export requests by how they were answered").register(registry));
    }
}
