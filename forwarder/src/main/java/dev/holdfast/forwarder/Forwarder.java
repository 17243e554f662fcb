package dev.holdfast.forwarder;

import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.forwarder.deadletter.DeadLetters;
import dev.holdfast.forwarder.kafka.TopicManager;
import dev.holdfast.forwarder.kafka.TopicSpec;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalSegment;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Replicates the WAL to Kafka, at least once, with stable event ids. A live lane forwards new appends at once; a
 * backlog lane drains what an outage or a restart left behind with the remaining capacity. Progress (what Kafka
 * confirmed) is saved to RocksDB; a segment whose records are all confirmed is deleted once older than the
 * retention. While Kafka is unreachable the circuit breaker opens, the lanes wait, and the intake keeps accepting
 * into the WAL.
 *
 * <p>Before the first send it creates its topics ({@link TopicManager}). An event Kafka will never take is
 * dead-lettered ({@link DeadLetters}) and forwarding moves on; the intake refuses at the door the events no topic
 * could take ({@link #limit()}).
 */
public final class Forwarder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

    private final ForwarderConfig config;
    private final Wal wal;
    private final MeterRegistry registry;
    /**
     * Wall time (the convention is {@link Wal}'s): what is compared with receive times and file times (lag,
     * retention) or written down (dead letters).
     */
    private final Clock clock;
    private final ForwardLimit limit;
    private final Progress progress = new Progress();
    private ProgressStore store;
    private KafkaProducer<byte[], byte[]> liveProducer;
    private KafkaProducer<byte[], byte[]> backlogProducer;
    private KafkaProducer<byte[], byte[]> deadLetterProducer;
    private DeadLetters deadLetters;
    private Thread topicSetup;
    private volatile boolean topicsChecked;
    private volatile boolean topicUnavailable;
    private volatile boolean closed;
    private LiveLane live;
    private BacklogLane backlog;
    private CircuitBreaker breaker;
    private ScheduledExecutorService housekeeping;
    private AuthenticationFailures authenticationFailures;

    public Forwarder(ForwarderConfig config, Wal wal, MeterRegistry registry) {
        this(config, wal, registry, Clock.systemUTC(), new ForwardLimit(config.producerProperties(), config.nodeId(),
                config.topic(), config.encoding()));
    }

    /** @param limit told the topic's {@code max.message.bytes} once known; the intake's door reads it */
    public Forwarder(ForwarderConfig config, Wal wal, MeterRegistry registry, Clock clock, ForwardLimit limit) {
        this.config = config;
        this.wal = wal;
        this.registry = registry;
        this.clock = clock;
        this.limit = limit;
    }

    public Forwarder start() throws IOException {
        store = new ProgressStore(config.progressDir());
        ProgressStore.Saved saved = store.load();
        // recovery rewrote a damaged segment: records from there to the cycle's end may have new indices, so what
        // was confirmed there is no longer known (they are sent again: duplicates, not losses)
        progress.restore(saved, wal.recovery().repairs().stream()
                .map(r -> new long[]{r.renumberedFrom(), r.renumberedThrough()}).toList());
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

        authenticationFailures = new AuthenticationFailures(config.bootstrap(), config.security());
        RecordMapper mapper = RecordMapper.of(new EventRecords(config.topic(), config.nodeId(), config.encoding()),
                new OtlpRecords(config.otlp(), config.nodeId()));
        liveProducer = Producers.create(config.bootstrap(), "holdfast-" + config.nodeId() + "-live",
                config.producerProperties(), config.security());
        backlogProducer = Producers.create(config.bootstrap(), "holdfast-" + config.nodeId() + "-backlog",
                config.producerProperties(), config.security());
        deadLetterProducer = Producers.create(config.bootstrap(), "holdfast-" + config.nodeId() + "-dead-letters",
                config.producerProperties(), config.security());
        deadLetters = new DeadLetters(config.deadLetterTopic(), deadLetterProducer,
                DeadLetterFile.open(config.deadLetterDir()), registry, clock);
        LaneContext lanes = new LaneContext(wal, progress, mapper, breaker, deadLetters, () -> topicsChecked,
                () -> topicUnavailable, metrics, authenticationFailures, clock);
        live = new LiveLane(lanes, liveProducer, config.maxInflightBytes(), config.liveMaxLag().toMillis());
        backlog = new BacklogLane(lanes, backlogProducer, config.maxInflightBytes(), config.backlogMinShare(), live);
        bindGauges();

        housekeeping = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "forwarder-housekeeping");
            t.setDaemon(true);
            return t;
        });
        long every = config.progressInterval().toMillis();
        housekeeping.scheduleWithFixedDelay(this::saveProgress, every, every, TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(this::applyRetention, 1, 5, TimeUnit.SECONDS);
        topicSetup = new Thread(this::setUpTopics, "forwarder-topics");
        topicSetup.setDaemon(true);
        topicSetup.start();
        live.start();
        backlog.start();
        log.info("forwarding WAL to Kafka {} ({}) topic {} ({} confirmed ranges restored, {}); dead letters to {} or {}",
                config.bootstrap(), config.security(), config.topic(), saved.confirmed().size(), saved.highestSent() < 0
                        ? "nothing sent before" : "last run sent up to index " + Long.toHexString(saved.highestSent()),
                config.deadLetterTopic(), config.deadLetterDir().resolve(DeadLetterFile.NAME));
        return this;
    }

    /**
     * Creates the topics; the lanes send nothing before (so the broker never auto-creates a topic with its own
     * settings). Kafka unreachable: retried with jittered backoff while the intake keeps writing its WAL. A
     * permanent failure (not authorised, a setting the cluster cannot meet) is logged and the lanes send anyway:
     * the topics may exist already, and a send to a topic that stays missing is dead-lettered.
     */
    private void setUpTopics() {
        long backoff = 500;
        try (Admin admin = Admin.create(Producers.adminProperties(config.bootstrap(), config.producerProperties(),
                config.security()))) {
            TopicManager topics = new TopicManager(admin);
            OtlpTopics otlp = config.otlp();
            List<TopicSpec> specs = List.of(spec(config.topic()), spec(config.deadLetterTopic()), spec(otlp.logs()),
                    spec(otlp.spans()), spec(otlp.metrics()));
            while (!closed) {
                TopicManager.Result r = topics.ensure(specs, Duration.ofSeconds(15));
                r.maxMessageBytes(config.topic()).ifPresent(limit::topicMaxMessageBytes);
                if (!r.retriable()) {
                    for (TopicManager.Refused refused : r.refused()) {
                        log.error("could not create topic {}; sending anyway (sends to a topic that stays missing"
                                + " are dead-lettered): {}", refused.topic(), refused.message());
                    }
                    topicUnavailable = r.outcome(config.topic()).orElse(null) instanceof TopicManager.Refused;
                    for (TopicSpec spec : specs) {
                        if (r.ready(spec.name()).isPresent() && !topics.awaitServing(spec.name(), Duration.ofSeconds(15))) {
                            log.warn("topic {} has partitions without a serving leader after 15 s; sending anyway",
                                    spec.name());
                        }
                    }
                    break;
                }
                long pause = ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1); // no thundering herd
                if (!authenticationFailures.report(r.unavailable().get(0).cause())) {
                    log.warn("Kafka not reachable to create topics ({}); trying again in {} ms",
                            r.unavailable().get(0).message(), pause);
                }
                Thread.sleep(pause);
                backoff = Math.min(backoff * 2, 30_000);
            }
        } catch (InterruptedException e) {
            return;
        } catch (RuntimeException e) {
            log.error("topic set-up failed; sending anyway", e);
        }
        topicsChecked = true;
    }

    private TopicSpec spec(String name) {
        ForwarderConfig.TopicSettings t = config.topicSettings();
        return new TopicSpec(name, t.partitions(), t.replicationFactor(), t.minInsyncReplicas(), t.maxMessageBytes());
    }

    private void bindGauges() {
        for (Lane lane : List.of(live, backlog)) {
            Gauge.builder("forwarder.lag.records", lane, Lane::lagRecords).tag("lane", lane.name)
                    .description("WAL records not yet confirmed by Kafka, per lane").register(registry);
            Gauge.builder("forwarder.lag.bytes", lane, Lane::lagBytes)
                    .description("backlog: payload bytes found unforwarded by the last pass; live: bytes in flight")
                    .tag("lane", lane.name).baseUnit("bytes").register(registry);
            Gauge.builder("forwarder.lag.oldest.age.seconds", lane, Lane::oldestPendingAgeSeconds)
                    .tag("lane", lane.name).baseUnit("seconds")
                    .description("Age of the oldest record the lane has not had confirmed").register(registry);
            Gauge.builder("forwarder.inflight.bytes", lane, l -> l.inflightBytes.get())
                    .tag("lane", lane.name).baseUnit("bytes")
                    .description("Bytes handed to the producer and not yet confirmed, per lane").register(registry);
        }
        Gauge.builder("forwarder.circuit.state", breaker, b -> switch (b.getState()) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            default -> 2;
        }).description("0 closed, 1 half-open, 2 open").register(registry);
        Gauge.builder("forwarder.confirmed.ranges", progress, Progress::confirmedRanges)
                .description("Disjoint ranges of confirmed records in the progress store (1 when nothing is out of order)")
                .register(registry);
    }

    /** The largest event this forwarder can get into Kafka: the intake refuses larger ones at the door. */
    public ForwardLimit limit() {
        return limit;
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
        return progress.isConfirmed(first, last);
    }

    public boolean isConfirmed(long index) {
        return progress.isConfirmed(index);
    }

    public CircuitBreaker.State circuitState() {
        return breaker.getState();
    }

    private void saveProgress() {
        try {
            store.save(progress.confirmedSnapshot(), progress.highestSent());
        } catch (IOException | RuntimeException e) {
            log.warn("could not save forwarder progress (a crash now would resend a little more): {}", e.toString());
        }
    }

    /** Deletes segments whose every record Kafka confirmed, once older than the retention; never the newest. */
    void applyRetention() {
        try {
            List<WalSegment> segments = wal.segments();
            long cutoff = clock.millis() - config.retention().toMillis(); // files' mtimes are wall time too
            for (int i = 0; i < segments.size() - 1; i++) {
                WalSegment s = segments.get(i);
                boolean forwarded = s.records() == 0 || progress.isConfirmed(s.firstIndex(), s.lastIndex());
                if (forwarded && s.lastModifiedMillis() < cutoff && wal.deleteSegment(s)) {
                    progress.forgetBelow(segments.get(i + 1).firstIndex());
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
        closed = true;
        if (topicSetup != null) {
            topicSetup.interrupt();
        }
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        if (live != null) live.close();
        if (backlog != null) backlog.close();
        if (liveProducer != null) liveProducer.close(Duration.ofSeconds(5));
        if (backlogProducer != null) backlogProducer.close(Duration.ofSeconds(5));
        if (deadLetters != null) deadLetters.close();
        if (deadLetterProducer != null) deadLetterProducer.close(Duration.ofSeconds(5));
        if (store != null) {
            saveProgress();
            store.close();
        }
    }
}
