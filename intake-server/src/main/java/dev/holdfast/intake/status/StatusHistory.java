package dev.holdfast.intake.status;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The last few minutes of the node's figures, one {@link Sample} per interval, so the status page has a chart the
 * moment it opens instead of drawing one from its own polls. It is the only owner of the ring: one sampler thread
 * writes it, HTTP threads copy from it.
 *
 * <p>Rates are differences of the cumulative meters between two readings divided by the time between them by the
 * injected clock (a late tick gives a longer interval, not a wrong rate). Lifecycle: nothing is sampled before
 * {@link #start()}; {@link #close()} stops the thread; the samples taken stay readable.
 */
public final class StatusHistory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusHistory.class);

    private final StatusMeters meters;
    private final LongSupplier walBytes;
    private final Clock clock;
    private final Duration interval;
    private final int capacity;
    private final ArrayDeque<Sample> ring;
    private ScheduledExecutorService sampler;
    private StatusMeters.Totals previous;
    private long previousMillis;

    /**
     * @param walBytes bytes the WAL uses now (the disk guard's count)
     * @param clock    times the samples; the rates' intervals are measured on it
     * @param interval between two samples
     * @param capacity samples kept (the oldest is dropped for a new one)
     */
    public StatusHistory(StatusMeters meters, LongSupplier walBytes, Clock clock, Duration interval, int capacity) {
        this.meters = Objects.requireNonNull(meters, "meters");
        this.walBytes = Objects.requireNonNull(walBytes, "walBytes");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.isNegative() || interval.isZero() || capacity < 1) {
            throw new IllegalArgumentException("interval must be positive and capacity at least 1: " + interval
                    + ", " + capacity);
        }
        this.interval = interval;
        this.capacity = capacity;
        this.ring = new ArrayDeque<>(capacity);
    }

    /** Takes the first reading now and a sample every interval from then on, on a daemon thread of its own. */
    public synchronized StatusHistory start() {
        if (sampler != null) {
            throw new IllegalStateException("status history already started");
        }
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status-sampler");
            t.setDaemon(true); // the intake decides when the process ends
            return t;
        });
        long millis = interval.toMillis();
        sampler.scheduleAtFixedRate(this::sampleQuietly, 0, millis, TimeUnit.MILLISECONDS);
        return this;
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            // a failed reading costs one point of the chart; an exception would cancel every later one
            log.warn("status sample failed: {}", e.toString());
        }
    }

    /** Reads the meters now; from the second reading on, adds the sample of the interval since the one before. */
    void sample() {
        StatusMeters.Totals now = meters.totals();
        long nowMillis = clock.millis();
        Double lagLive = meters.lagRecords("live");
        Double lagBacklog = meters.lagRecords("backlog");
        long wal = walBytes.getAsLong();
        synchronized (this) {
            StatusMeters.Totals before = previous;
            long beforeMillis = previousMillis;
            previous = now;
            previousMillis = nowMillis;
            if (before == null || nowMillis <= beforeMillis) {
                return; // no interval to make a rate of
            }
            double seconds = (nowMillis - beforeMillis) / 1000.0;
            Sample s = new Sample(nowMillis,
                    (now.eventsWritten() - before.eventsWritten()) / seconds,
                    (now.batchesAcked() - before.batchesAcked()) / seconds,
                    rate(before.forwardedLive(), now.forwardedLive(), seconds),
                    rate(before.forwardedBacklog(), now.forwardedBacklog(), seconds),
                    lagLive, lagBacklog,
                    quantile(before, now, 0.50), quantile(before, now, 0.99), wal);
            if (ring.size() == capacity) {
                ring.removeFirst();
            }
            ring.addLast(s);
        }
    }

    /** A lane's rate; null while the forwarder is not running (one that started during the interval counts from 0). */
    private static Double rate(Double before, Double now, double seconds) {
        if (now == null) {
            return null;
        }
        // the forwarder started during the interval: its counters started at 0 then
        return (now - (before == null ? 0 : before)) / seconds;
    }

    private static Double quantile(StatusMeters.Totals before, StatusMeters.Totals now, double q) {
        return now.ackLatency() == null ? null : AckLatencyWindow.quantileMillis(before.ackLatency(), now.ackLatency(), q);
    }

    /** The samples taken after {@code sinceMillis} (epoch ms; 0 or less for all), oldest first. */
    public synchronized List<Sample> since(long sinceMillis) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : ring) {
            if (s.time() > sinceMillis) {
                out.add(s);
            }
        }
        return out;
    }

    /** The newest sample; null before the second reading. */
    public synchronized Sample latest() {
        return ring.peekLast();
    }

    public Duration interval() {
        return interval;
    }

    /** Stops sampling; safe to call more than once, and before {@link #start()}. */
    @Override
    public synchronized void close() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
    }
}
