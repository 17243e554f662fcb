package dev.holdfast.intake;

import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.DiskGuard;
import dev.holdfast.wal.WalRecovery;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The intake's meters. Names are registered without the {@code holdfast.} prefix, which the registry's filter adds,
 * so they scrape as {@code holdfast_wal_appended_batches_total} and so on.
 */
public final class IntakeMetrics implements CommitListener {
    private final MeterRegistry registry;
    private final Counter batches;
    private final Counter events;
    private final Counter bytes;
    private final Timer syncTimer;
    private final Timer queueWait;
    private final Timer appendTimer;
    private final Timer syncWait;
    private final Timer checkpointTimer;
    private final Timer ackLatency;
    private final Counter belowClaimedAck;
    private final Map<String, Counter> acksByStatus = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejections = new ConcurrentHashMap<>();

    /**
     * Every reason a batch is not written for. Their counters, and one per ack status, exist at 0 from the start: a
     * rate over a series that appears only with its first increment misses that increment, and an alert on "more
     * than zero" cannot tell "none yet" from "not exported".
     */
    public static final java.util.List<String> REJECTION_REASONS = java.util.List.of("invalid", "reused_seq",
            "overload", "overload_agent_share", "disk_pressure", "wal_failed", "wal_error", "permission_denied");

    public IntakeMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (BatchAck.Status status : BatchAck.Status.values()) {
            if (status != BatchAck.Status.STATUS_UNSPECIFIED
                    && status != BatchAck.Status.UNRECOGNIZED) {
                acksByStatus.put(status.name(), ackCounter(status.name()));
            }
        }
        for (String reason : REJECTION_REASONS) {
            rejections.put(reason, rejectionCounter(reason));
        }
        this.batches = Counter.builder("wal.appended.batches").description("Batches appended to the WAL").register(registry);
        this.events = Counter.builder("wal.appended.events").description("Events appended to the WAL").register(registry);
        this.bytes = Counter.builder("wal.appended.bytes").baseUnit("bytes").description("Record bytes appended").register(registry);
        this.syncTimer = walStage(registry, "wal.sync.duration", "Time in msync per group commit");
        // with the sync and the ack latency, these say where an acknowledgement's time goes (docs/BENCHMARKS.md)
        this.queueWait = walStage(registry, "wal.queue.wait",
                "Per group commit: how long its longest-waiting batch was queued for the WAL writer");
        this.appendTimer = walStage(registry, "wal.append.duration", "Time appending per group commit");
        this.syncWait = walStage(registry, "wal.sync.wait",
                "Per group commit: from its first group appended to its msync starting (the sync in flight before it)");
        this.checkpointTimer = walStage(registry, "wal.checkpoint.duration",
                "Time writing and syncing a checkpoint, on the WAL's checkpoint thread");
        this.ackLatency = Timer.builder("intake.ack.latency")
                .description("From batch received to acknowledgement sent")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
        this.belowClaimedAck = Counter.builder("intake.batches.below.claimed.ack")
                .description("Batches written although at or below the acknowledged_through their stream's Hello "
                        + "claimed: possible duplicates of batches another node holds (or a wrong claim)")
                .register(registry);
    }

    /** A histogram of one stage of the WAL writer's work, from 10 us to 5 s. */
    private static Timer walStage(MeterRegistry registry, String name, String description) {
        return Timer.builder(name).description(description).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000)).maximumExpectedValue(Duration.ofSeconds(5))
                .register(registry);
    }

    /** Gauges over live state; suppliers must be cheap. */
    public void bindWal(DiskGuard guard, Supplier<Number> queuedBatches, InflightBytes inflight) {
        Gauge.builder("wal.size.bytes", guard, DiskGuard::walBytes).baseUnit("bytes")
                .description("Bytes the WAL's segments use").register(registry);
        Gauge.builder("wal.budget.bytes", guard, DiskGuard::budgetBytes).baseUnit("bytes")
                .description("Bytes the WAL may use (wal.maxBytes, less what the disk's free space rules out)")
                .register(registry);
        Gauge.builder("wal.disk.free.bytes", guard, DiskGuard::freeBytes).baseUnit("bytes")
                .description("Free bytes on the WAL's file system").register(registry);
        Gauge.builder("wal.pressure.level", guard, g -> g.pressure().ordinal())
                .description("0 ok, 1 shedding BULK, 2 shedding NORMAL, 3 full").register(registry);
        Gauge.builder("wal.queued.batches", queuedBatches, s -> s.get().doubleValue())
                .description("Batches handed to the WAL writer and not yet taken").register(registry);
        Gauge.builder("intake.inflight.bytes", inflight, InflightBytes::inUseBytes).baseUnit("bytes")
                .description("Bytes of batches received and not yet answered (bounded by limits.inflightBytes)")
                .register(registry);
    }

    /**
     * What the last start found: damage a reader would have stopped at, and what recovery did about it; and damage
     * the background walk found since, in what the start trusted from its walk marks (repaired at the next start).
     */
    public void bindRecovery(WalRecovery.Report report, Supplier<Set<String>> damagedSinceStart) {
        Gauge.builder("wal.damaged.segments", damagedSinceStart, d -> d.get().size())
                .description("Segments the background walk found damaged since the start (repaired at the next)")
                .register(registry);
        Gauge.builder("wal.recovery.damaged.places", report, r -> r.corrupt().size())
                .description("Damaged records and byte ranges recovery found at the last start").register(registry);
        Gauge.builder("wal.recovery.repaired.segments", report, r -> r.repairs().size())
                .description("Segments rewritten around damage at the last start").register(registry);
        Gauge.builder("wal.recovery.quarantined.files", report, r -> r.quarantinedFiles().size())
                .description("Files moved to quarantine whole at the last start").register(registry);
    }

    @Override
    public void committed(int batchCount, long eventCount, long byteCount, Stages stages) {
        batches.increment(batchCount);
        events.increment(eventCount);
        bytes.increment(byteCount);
        queueWait.record(stages.waitNanos(), TimeUnit.NANOSECONDS);
        appendTimer.record(stages.appendNanos(), TimeUnit.NANOSECONDS);
        if (stages.syncNanos() > 0) {
            syncWait.record(stages.syncWaitNanos(), TimeUnit.NANOSECONDS);
            syncTimer.record(stages.syncNanos(), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void checkpointed(long nanos) {
        checkpointTimer.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void acked(String status, long receivedNanos) {
        ackLatency.record(System.nanoTime() - receivedNanos, TimeUnit.NANOSECONDS);
        acksByStatus.computeIfAbsent(status, this::ackCounter).increment();
    }

    private Counter ackCounter(String status) {
        return Counter.builder("intake.acks").tag("status", status).description("Acknowledgements sent, by status")
                .register(registry);
    }

    private Counter rejectionCounter(String reason) {
        return Counter.builder("intake.rejections").tag("reason", reason)
                .description("Batches not written, by reason (they were answered RETRY_LATER or INVALID)")
                .register(registry);
    }

    /** A batch at or below its stream's claimed acknowledged_through was written. */
    public void belowClaimedAck() {
        belowClaimedAck.increment();
    }

    /** @param reason one of {@link #REJECTION_REASONS} */
    public void rejected(String reason) {
        rejections.computeIfAbsent(reason, this::rejectionCounter).increment();
    }
}
