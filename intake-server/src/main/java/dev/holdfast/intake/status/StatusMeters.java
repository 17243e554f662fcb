package dev.holdfast.intake.status;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reads the figures the status page shows from the meters the intake and the forwarder already keep, by the names
 * /metrics exports them under: the page and a Prometheus dashboard can never disagree, and nothing on the write path
 * counts twice. A meter that is not registered reads as null: the forwarder registers its meters only once it runs,
 * so "no lag figure" and "lag 0" stay different things.
 */
public final class StatusMeters {
    static final String EVENTS_WRITTEN = "holdfast.wal.appended.events";
    static final String ACKS = "holdfast.intake.acks";
    static final String ACK_LATENCY = "holdfast.intake.ack.latency";
    static final String REJECTIONS = "holdfast.intake.rejections";
    static final String SENT_EVENTS = "holdfast.forwarder.sent.events";
    static final String LAG_RECORDS = "holdfast.forwarder.lag.records";
    static final String LAG_OLDEST_AGE = "holdfast.forwarder.lag.oldest.age.seconds";
    static final String DEAD_LETTERS = "holdfast.forwarder.dead.letters";

    private final MeterRegistry registry;

    public StatusMeters(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * The counters rates are made of, and the ack latency histogram, at one instant.
     *
     * @param forwardedLive    events Kafka confirmed from the live lane; null while the forwarder is not running
     * @param forwardedBacklog the same for the backlog lane
     */
    record Totals(double eventsWritten, double batchesAcked, Double forwardedLive, Double forwardedBacklog,
                  HistogramSnapshot ackLatency) {
    }

    Totals totals() {
        Timer latency = registry.find(ACK_LATENCY).timer();
        return new Totals(counter(EVENTS_WRITTEN, null, null),
                counter(ACKS, "status", "PERSISTED") + counter(ACKS, "status", "DUPLICATE"),
                counterOrNull(SENT_EVENTS, "lane", "live"), counterOrNull(SENT_EVENTS, "lane", "backlog"),
                latency == null ? null : latency.takeSnapshot());
    }

    /** Records not yet confirmed by Kafka on one lane ("live", "backlog"); null while the forwarder is not running. */
    Double lagRecords(String lane) {
        return gauge(LAG_RECORDS, "lane", lane);
    }

    /** Age of the oldest record a lane has not had confirmed, in seconds; null while the forwarder is not running. */
    Double lagOldestAgeSeconds(String lane) {
        return gauge(LAG_OLDEST_AGE, "lane", lane);
    }

    /** Batches refused since the start, by reason, those above zero only. */
    Map<String, Long> rejections() {
        return byTag(REJECTIONS, "reason");
    }

    /** Events dead-lettered since the start, by reason (every destination together), those above zero only. */
    Map<String, Long> deadLetters() {
        return byTag(DEAD_LETTERS, "reason");
    }

    private Map<String, Long> byTag(String name, String tag) {
        Map<String, Long> out = new TreeMap<>();
        for (Counter c : registry.find(name).counters()) {
            long n = (long) c.count();
            if (n > 0) {
                out.merge(String.valueOf(c.getId().getTag(tag)), n, Long::sum);
            }
        }
        return out;
    }

    private double counter(String name, String tag, String value) {
        Double d = counterOrNull(name, tag, value);
        return d == null ? 0 : d;
    }

    private Double counterOrNull(String name, String tag, String value) {
        var search = tag == null ? registry.find(name) : registry.find(name).tag(tag, value);
        var counters = search.counters();
        if (counters.isEmpty()) {
            return null;
        }
        return counters.stream().mapToDouble(Counter::count).sum();
    }

    private Double gauge(String name, String tag, String value) {
        Gauge g = registry.find(name).tag(tag, value).gauge();
        if (g == null) {
            return null;
        }
        double v = g.value();
        return Double.isNaN(v) ? null : v;
    }
}
