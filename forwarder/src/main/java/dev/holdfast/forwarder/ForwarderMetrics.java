package dev.holdfast.forwarder;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The forwarder's meters (registered without the holdfast. prefix, which the registry adds). */
final class ForwarderMetrics {
    final Counter sendErrors;
    final Counter resentAfterRestart;
    final Counter corruptSkipped;
    final Counter unreadable;
    final Counter reanchors;
    private final Map<String, Counter> events;
    private final Map<String, Counter> bytes;
    private final Map<String, Timer> walToKafka;
    /** Highest index sent by the previous run (from the progress store); sends at or below it may be duplicates. */
    volatile long highestSentBeforeStart = -1;

    ForwarderMetrics(MeterRegistry registry) {
        sendErrors = Counter.builder("forwarder.send.errors").register(registry);
        resentAfterRestart = Counter.builder("forwarder.resent.after.restart.events")
                .description("Events re-sent after a restart that Kafka may already hold (at-least-once)").register(registry);
        corruptSkipped = Counter.builder("forwarder.corrupt.records.skipped").register(registry);
        unreadable = Counter.builder("forwarder.unreadable.batches").register(registry);
        reanchors = Counter.builder("forwarder.live.reanchors")
                .description("Times the live lane jumped to the WAL head, leaving older records to the backlog").register(registry);
        events = Map.of("live", Counter.builder("forwarder.sent.events").tag("lane", "live").register(registry),
                "backlog", Counter.builder("forwarder.sent.events").tag("lane", "backlog").register(registry));
        bytes = Map.of("live", Counter.builder("forwarder.sent.bytes").tag("lane", "live").register(registry),
                "backlog", Counter.builder("forwarder.sent.bytes").tag("lane", "backlog").register(registry));
        walToKafka = Map.of("live", latency(registry, "live"), "backlog", latency(registry, "backlog"));
    }

    private static Timer latency(MeterRegistry registry, String lane) {
        return Timer.builder("forwarder.wal.to.kafka.latency").tag("lane", lane)
                .description("From receipt at the intake to Kafka's confirmation, per batch")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
    }

    void confirmed(String lane, int eventCount, int byteCount, long ageNanos) {
        events.get(lane).increment(eventCount);
        bytes.get(lane).increment(byteCount);
        walToKafka.get(lane).record(Math.max(0, ageNanos), TimeUnit.NANOSECONDS);
    }

}
