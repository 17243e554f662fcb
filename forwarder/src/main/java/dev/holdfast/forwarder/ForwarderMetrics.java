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
        sendErrors = Counter.builder("forwarder.send.errors")
                .description("Sends Kafka refused or that failed; the events are sent again").register(registry);
        resentAfterRestart = Counter.builder("forwarder.resent.after.restart.events")
                .description("Events re-sent after a restart that Kafka may already hold (at-least-once)").register(registry);
        corruptSkipped = Counter.builder("forwarder.corrupt.records.skipped")
                .description("Damaged WAL records the readers passed (reported; their batches resent by agents)")
                .register(registry);
        unreadable = Counter.builder("forwarder.unreadable.batches")
                .description("WAL records whose checksum held but whose batch could not be decoded").register(registry);
        reanchors = Counter.builder("forwarder.live.reanchors")
                .description("Times the live lane jumped to the WAL head, leaving older records to the backlog").register(registry);
        events = Map.of("live", sent(registry, "forwarder.sent.events", "live", null),
                "backlog", sent(registry, "forwarder.sent.events", "backlog", null));
        bytes = Map.of("live", sent(registry, "forwarder.sent.bytes", "live", "bytes"),
                "backlog", sent(registry, "forwarder.sent.bytes", "backlog", "bytes"));
        walToKafka = Map.of("live", latency(registry, "live"), "backlog", latency(registry, "backlog"));
    }

    private static Counter sent(MeterRegistry registry, String name, String lane, String unit) {
        return Counter.builder(name).tag("lane", lane).baseUnit(unit)
                .description("Confirmed by Kafka, per lane (live: the WAL's head; backlog: what the live lane left)")
                .register(registry);
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
