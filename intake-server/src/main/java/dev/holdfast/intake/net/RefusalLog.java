package dev.holdfast.intake.net;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts refused connections ({@code holdfast_connections_refused_total{port,reason}}) and says so in the log at
 * most once per interval and reason, with how many were refused since: a flood must not also flood the log.
 */
public final class RefusalLog implements ConnectionGate.Listener {
    private static final Logger log = LoggerFactory.getLogger(RefusalLog.class);

    private final String port;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Duration interval;
    private final Map<ConnectionGate.Refusal, Counter> counters = new ConcurrentHashMap<>();
    private final Map<ConnectionGate.Refusal, Instant> lastLogged = new ConcurrentHashMap<>();
    private final Map<ConnectionGate.Refusal, AtomicLong> sinceLogged = new ConcurrentHashMap<>();

    public RefusalLog(String port, MeterRegistry registry, Clock clock, Duration interval) {
        this.port = port;
        this.registry = registry;
        this.clock = clock;
        this.interval = interval;
    }

    @Override
    public void refused(ConnectionGate.Refusal refusal, InetAddress remote) {
        counters.computeIfAbsent(refusal, r -> Counter.builder("connections.refused").tag("port", port)
                .tag("reason", r.tag()).description("Connections refused at accept, or closed later, by limit")
                .register(registry)).increment();
        long pending = sinceLogged.computeIfAbsent(refusal, r -> new AtomicLong()).incrementAndGet();
        Instant now = clock.instant();
        Instant last = lastLogged.get(refusal);
        if (last == null || !now.isBefore(last.plus(interval))) {
            lastLogged.put(refusal, now);
            sinceLogged.get(refusal).addAndGet(-pending);
            log.warn("{} port: {} {} connection(s) at limits.connections ({}), the latest from {}", port,
                    refusal == ConnectionGate.Refusal.PARTIAL_BYTES || refusal == ConnectionGate.Refusal.PARTIAL_BYTES_TOTAL
                            ? "closed" : "refused", pending,
                    switch (refusal) {
                        case TOTAL -> "max open connections reached";
                        case PER_ADDRESS -> "maxPerAddress reached for that address";
                        case FD_RESERVE -> "fewer free file descriptors than fdReserve";
                        case PARTIAL_BYTES -> "partialMessageBytes held in messages not yet complete";
                        case PARTIAL_BYTES_TOTAL -> "partialMessageBytesTotal held over all connections; this one held"
                                + " the most";
                    }, remote.getHostAddress());
        }
    }
}
