package dev.holdfast.forwarder;

import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalRecovery;
import dev.holdfast.wal.WalSegment;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Replicates the WAL to Kafka, at least once, with stable event ids. A live lane forwards new appends at once; a
 * backlog lane drains what an outage or a restart left behind with the remaining capacity. Progress (what Kafka
 * confirmed) is saved to RocksDB; a segment whose records are all confirmed is deleted once older than the
 * retention. While Kafka is unreachable the circuit breaker opens, the lanes wait, and the intake keeps accepting
 * into the WAL.
 */
public final class Forwarder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

    private final ForwarderConfig config;
    private final Wal wal;
    private final MeterRegistry registry;
    private final Progress progress = new Progress();
    private ProgressStore store;
    private KafkaProducer<byte[], byte[]> liveProducer;
    private KafkaProducer<byte[], byte[]> backlogProducer;
    private LiveLane live;
    private BacklogLane backlog;
    private CircuitBreaker breaker;
    private ScheduledExecutorService housekeeping;

    public Forwarder(ForwarderConfig config, Wal wal, MeterRegistry registry) {
        this.config = config;
        this.wal = wal;
        this.registry = registry;
    }

    public Forwarder start() throws IOException {
        store = new ProgressStore(config.progressDir());
        ProgressStore.Progress saved = store.load();
        saved.confirmed().forEach(r -> progress.confirmed.addRange(r[0], r[1]));
        for (WalRecovery.Repair r : wal.recovery().repairs()) {
            // recovery rewrote that segment around its damage: records from there to the cycle's end may have new
            // indices, so what was confirmed there is no longer known (they are sent again: duplicates, not losses)
            progress.confirmed.removeRange(r.renumberedFrom(), r.renumberedThrough());
        }
        progress.highestSent.set(saved.highestSent());
        ForwarderMetrics metrics = new ForwarderMetrics(registry);
        metrics.highestSentBeforeStart = saved.highestSent();

        breaker = CircuitBreaker.of("kafka", CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(20).minimumNumberOfCalls(5).failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(2))
                .permittedNumberOfCallsInHalfOpenState(3)
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .build());
        breaker.getEventPublisher().onStateTransition(e -> log.warn("Kafka circuit breaker: {}", e.getStateTransition()));

        EventRecords mapper = new EventRecords(config.topic(), config.nodeId());
        liveProducer = Producers.create(config.bootstrap(), "holdfast-" + config.nodeId() + "-live",
                config.producerProperties());
        backlogProducer = Producers.create(config.bootstrap(), "holdfast-" + config.nodeId() + "-backlog",
                config.producerProperties());
        live = new LiveLane(wal, progress, liveProducer, mapper, breaker, metrics, config.maxInflightBytes(),
                config.liveMaxLag().toMillis());
        backlog = new BacklogLane(wal, progress, backlogProducer, mapper, breaker, metrics, config.maxInflightBytes(),
                config.backlogMinShare(), live);
        bindGauges();
        live.start();
        backlog.start();

        housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forwarder-housekeeping");
            t.setDaemon(true);
            return t;
        });
        long every = config.progressInterval().toMillis();
        housekeeping.scheduleWithFixedDelay(this::saveProgress, every, every, TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(this::applyRetention, 1, 5, TimeUnit.SECONDS);
        log.info("forwarding WAL to Kafka {} topic {} ({} confirmed ranges restored, {})", config.bootstrap(),
                config.topic(), saved.confirmed().size(), saved.highestSent() < 0 ? "nothing sent before"
                        : "last run sent up to index " + Long.toHexString(saved.highestSent()));
        return this;
    }

    private void bindGauges() {
        for (Lane lane : List.of(live, backlog)) {
            Gauge.builder("forwarder.lag.records", lane, l -> l == live ? liveLagRecords() : backlog.lagRecords())
                    .tag("lane", lane.name).register(registry);
            Gauge.builder("forwarder.lag.bytes", lane, l -> l == live ? live.inflightBytes.get() : backlog.pendingBytes.get())
                    .description("backlog: payload bytes found unforwarded by the last pass; live: bytes in flight")
                    .tag("lane", lane.name).baseUnit("bytes").register(registry);
            Gauge.builder("forwarder.lag.oldest.age.seconds", lane, Lane::oldestPendingAgeSeconds)
                    .tag("lane", lane.name).register(registry);
            Gauge.builder("forwarder.inflight.bytes", lane, l -> l.inflightBytes.get())
                    .tag("lane", lane.name).baseUnit("bytes").register(registry);
        }
        Gauge.builder("forwarder.circuit.state", breaker, b -> switch (b.getState()) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            default -> 2;
        }).description("0 closed, 1 half-open, 2 open").register(registry);
        Gauge.builder("forwarder.confirmed.ranges", progress.confirmed, ConfirmedRanges::size).register(registry);
    }

    private long liveLagRecords() {
        return Math.max(0, wal.countRecords(live.nextIndex(), wal.lastIndex()));
    }

    /** Completes when Kafka has confirmed every event of the WAL record at index (replicated durability). */
    public CompletableFuture<Void> whenConfirmed(long index) {
        return wal.numberingDiverged(index) ? diverged(index) : progress.whenConfirmed(index);
    }

    /** Completes when every WAL record at or below index is confirmed. */
    public CompletableFuture<Void> whenConfirmedThrough(long index) {
        return wal.numberingDiverged(index) ? diverged(index) : progress.whenConfirmedThrough(index);
    }

    /**
     * A confirmation by index cannot be trusted there (the lanes read past damage and numbered records themselves):
     * the acknowledgement fails (the agent retries) rather than be released by another record's confirmation.
     */
    private static CompletableFuture<Void> diverged(long index) {
        return CompletableFuture.failedFuture(new IllegalStateException("WAL index " + Long.toHexString(index)
                + " lies after damage found under the running intake; confirmations there are not by index until"
                + " a restart repairs the segment"));
    }

    /** True when every index from first to last (one segment) is confirmed. */
    public boolean isConfirmed(long first, long last) {
        return progress.confirmed.containsAll(first, last);
    }

    public boolean isConfirmed(long index) {
        return progress.confirmed.contains(index);
    }

    public CircuitBreaker.State circuitState() {
        return breaker.getState();
    }

    private void saveProgress() {
        try {
            store.save(progress.confirmed.snapshot(), progress.highestSent.get());
        } catch (IOException | RuntimeException e) {
            log.warn("could not save forwarder progress (a crash now would resend a little more): {}", e.toString());
        }
    }

    /** Deletes segments whose every record Kafka confirmed, once older than the retention; never the newest. */
    void applyRetention() {
        try {
            List<WalSegment> segments = wal.segments();
            long cutoff = System.currentTimeMillis() - config.retention().toMillis();
            for (int i = 0; i < segments.size() - 1; i++) {
                WalSegment s = segments.get(i);
                boolean forwarded = s.records() == 0 || progress.confirmed.containsAll(s.firstIndex(), s.lastIndex());
                if (forwarded && s.lastModifiedMillis() < cutoff && wal.deleteSegment(s)) {
                    progress.confirmed.removeBelow(segments.get(i + 1).firstIndex());
                } else if (!forwarded) {
                    break; // keep order simple: nothing newer goes before an unforwarded segment
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("retention pass failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        if (live != null) live.close();
        if (backlog != null) backlog.close();
        if (liveProducer != null) liveProducer.close(Duration.ofSeconds(5));
        if (backlogProducer != null) backlogProducer.close(Duration.ofSeconds(5));
        if (store != null) {
            saveProgress();
            store.close();
        }
    }
}
