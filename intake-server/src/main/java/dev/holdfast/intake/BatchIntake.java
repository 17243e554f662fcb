package dev.holdfast.intake;

import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.Wal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The durability path shared by the streaming and the unary RPC: validate, admit, append to the WAL, and turn the
 * WAL's durable outcome into the acknowledgement. Nothing here blocks; the caller sends the ack when the returned
 * future completes.
 */
public final class BatchIntake {
    private final Wal wal;
    private final BatchValidator validator;
    private final InflightBytes inflight;
    private final IntakeMetrics metrics;
    private final long overloadRetryAfterMs;
    private final ReplicationGate replication;

    /**
     * Waits, at {@code replicated} durability, until Kafka has confirmed what the WAL holds; {@link #NONE} at the
     * other levels.
     */
    public interface ReplicationGate {
        ReplicationGate NONE = new ReplicationGate() {
            @Override
            public CompletableFuture<Void> confirmed(long walIndex) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<Void> confirmedThrough(long walIndex) {
                return CompletableFuture.completedFuture(null);
            }
        };

        /** The record at this index is confirmed. */
        CompletableFuture<Void> confirmed(long walIndex);

        /** Every record up to this index is confirmed (a duplicate's original is among them). */
        CompletableFuture<Void> confirmedThrough(long walIndex);
    }

    public BatchIntake(Wal wal, BatchValidator validator, InflightBytes inflight, IntakeMetrics metrics,
                       long overloadRetryAfterMs, ReplicationGate replication) {
        this.replication = replication;
        this.wal = wal;
        this.validator = validator;
        this.inflight = inflight;
        this.metrics = metrics;
        this.overloadRetryAfterMs = overloadRetryAfterMs;
    }

    /** Null when a Hello or Resume may name this agent id, else why not (see {@link BatchValidator#agentIdProblem}). */
    public String agentIdProblem(String field, String agentId) {
        return validator.agentIdProblem(field, agentId);
    }

    /** Counts a Hello, Resume or batch refused because its caller may not send as its agent (nothing was written). */
    public void permissionDenied() {
        metrics.rejected("permission_denied");
    }

    /** A batch from the unary Send: any agent, no claim. */
    public CompletableFuture<BatchAck> accept(byte[] bytes) {
        return accept(bytes, null, 0);
    }

    /**
     * @param expectedAgentId   the agent a stream said Hello as (a stream carries one agent's batches), or null
     * @param claimedAckThrough the stream's Hello.acknowledged_through (0 = none): a batch at or below it is written
     *                          like any other, and counted, as it may duplicate a batch another node holds
     */
    public CompletableFuture<BatchAck> accept(byte[] bytes, String expectedAgentId, long claimedAckThrough) {
        long receivedNanos = System.nanoTime();
        try (Wal.Arrival ignored = wal.arriving()) { // a sync about to start waits for it (see Wal#arriving)
            return admit(bytes, expectedAgentId, claimedAckThrough, receivedNanos);
        }
    }

    private CompletableFuture<BatchAck> admit(byte[] bytes, String expectedAgentId, long claimedAckThrough,
                                              long receivedNanos) {
        BatchValidator.Result result = validator.validate(bytes, System.currentTimeMillis() * 1_000_000L,
                expectedAgentId);
        if (result instanceof BatchValidator.Invalid invalid) {
            metrics.rejected("invalid");
            return done(ack(invalid.batchSeq(), BatchAck.Status.INVALID, 0, invalid.message()), receivedNanos);
        }
        BatchValidator.Valid valid = (BatchValidator.Valid) result;
        long seq = valid.header().batchSeq();
        // A batch the WAL already holds goes to the writer anyway: it answers DUPLICATE only after the sync that
        // covers the original, which may still be in progress. It is never shed for disk pressure.
        boolean known = wal.sequences().contains(valid.header().agentId(), seq);
        String refusal = known ? null : wal.guard().refusal(valid.header().priority(), bytes.length);
        if (refusal != null) {
            metrics.rejected("disk_pressure");
            return done(ack(seq, BatchAck.Status.RETRY_LATER, jitter(wal.guard().retryAfterMs()), refusal), receivedNanos);
        }
        String agentId = valid.header().agentId();
        int admitted = bytes.length;
        InflightBytes.Refusal overload = inflight.tryAcquire(agentId, admitted);
        if (overload != InflightBytes.Refusal.NONE) {
            boolean share = overload == InflightBytes.Refusal.AGENT_SHARE;
            metrics.rejected(share ? "overload_agent_share" : "overload");
            return done(ack(seq, BatchAck.Status.RETRY_LATER, jitter(overloadRetryAfterMs), share
                    ? "intake busy: this agent holds its share of the in-flight byte limit (limits.maxInflightBytes)"
                    : "intake overloaded: in-flight byte limit reached (limits.maxInflightBytes)"), receivedNanos);
        }
        return wal.append(valid.header(), valid.bytes())
                .thenCompose(r -> switch (r.status()) {
                    case PERSISTED -> replication.confirmed(r.index()).thenApply(v -> r);
                    case DUPLICATE -> replication.confirmedThrough(wal.lastIndex()).thenApply(v -> r);
                    case CONFLICT, TOO_LARGE, REJECTED -> CompletableFuture.completedFuture(r);
                })
                .handle((r, error) -> {
                    inflight.release(agentId, admitted);
                    BatchAck ack;
                    if (error != null) {
                        metrics.rejected("wal_error");
                        ack = ack(seq, BatchAck.Status.RETRY_LATER, jitter(overloadRetryAfterMs), "WAL error: " + error);
                    } else {
                        ack = toAck(seq, r);
                        if (r.status() == AppendResult.Status.PERSISTED && claimedAckThrough != 0
                                && Long.compareUnsigned(seq, claimedAckThrough) <= 0) {
                            metrics.belowClaimedAck();
                        }
                    }
                    metrics.acked(ack.getStatus().name(), receivedNanos);
                    return ack;
                });
    }

    private BatchAck toAck(long seq, AppendResult r) {
        return switch (r.status()) {
            case PERSISTED -> ack(seq, BatchAck.Status.PERSISTED, 0, "");
            case DUPLICATE -> ack(seq, BatchAck.Status.DUPLICATE, 0, r.message());
            case CONFLICT -> {
                metrics.rejected("reused_seq");
                yield ack(seq, BatchAck.Status.INVALID, 0, r.message());
            }
            case TOO_LARGE -> {
                metrics.rejected("invalid");
                yield ack(seq, BatchAck.Status.INVALID, 0, r.message());
            }
            case REJECTED -> {
                metrics.rejected(wal.writerFailure() != null ? "wal_failed" : "disk_pressure");
                yield ack(seq, BatchAck.Status.RETRY_LATER, jitter(r.retryAfterMs()), r.message());
            }
        };
    }

    private CompletableFuture<BatchAck> done(BatchAck ack, long receivedNanos) {
        metrics.acked(ack.getStatus().name(), receivedNanos);
        return CompletableFuture.completedFuture(ack);
    }

    /** Up to +50 %, so that agents shed together do not come back together. */
    public static long jitter(long retryAfterMs) {
        return retryAfterMs + ThreadLocalRandom.current().nextLong(retryAfterMs / 2 + 1);
    }

    static BatchAck ack(long seq, BatchAck.Status status, long retryAfterMs, String message) {
        return BatchAck.newBuilder().setBatchSeq(seq).setStatus(status)
                .setRetryAfterMs((int) Math.min(Integer.MAX_VALUE, retryAfterMs)).setMessage(message).build();
    }
}
