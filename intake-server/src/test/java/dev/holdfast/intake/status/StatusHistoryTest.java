package dev.holdfast.intake.status;

import dev.holdfast.intake.IntakeMetrics;
import dev.holdfast.metrics.Metrics;
import dev.holdfast.wal.CommitListener;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The history's arithmetic on the intake's real meters (IntakeMetrics on the process's registry, moved as the WAL and
 * the gRPC service move them), sampled by hand on a clock the test sets.
 */
class StatusHistoryTest {
    /** One per JVM: the registry's JVM binders register listeners that live as long as the process. */
    private static final PrometheusMeterRegistry REGISTRY = Metrics.newRegistry();
    private static final IntakeMetrics METRICS = new IntakeMetrics(REGISTRY);
    private static final CommitListener.Stages NO_STAGES = new CommitListener.Stages(0, 0, 0, 0);

    /** A clock that moves only when told to. */
    static final class HandClock extends Clock {
        final AtomicLong millis = new AtomicLong(1_800_000_000_000L);

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private final HandClock clock = new HandClock();
    private final AtomicLong walBytes = new AtomicLong(4096);

    private StatusHistory history(int capacity) {
        return new StatusHistory(new StatusMeters(REGISTRY), walBytes::get, clock, Duration.ofSeconds(1), capacity);
    }

    @Test
    void ratesAreTheMetersDifferencesOverTheClocksInterval() {
        StatusHistory h = history(10);
        h.sample(); // the first reading only sets the start
        assertNull(h.latest(), "no interval yet, so no rate");
        METRICS.committed(10, 500, 50_000, NO_STAGES);
        for (int i = 0; i < 8; i++) METRICS.acked("PERSISTED", System.nanoTime());
        METRICS.acked("DUPLICATE", System.nanoTime());
        METRICS.acked("INVALID", System.nanoTime()); // not an acknowledgement of anything held
        walBytes.set(60_000);
        clock.advance(Duration.ofSeconds(2)); // a late tick: two seconds, not one
        h.sample();
        Sample s = h.latest();
        assertEquals(clock.millis(), s.time());
        assertEquals(250.0, s.eventsInPerSecond(), 1e-9);
        assertEquals(4.5, s.batchesAckedPerSecond(), 1e-9);
        assertEquals(60_000, s.walBytes());
        assertNull(s.eventsOutLivePerSecond(), "no forwarder meters, so no out rate (not 0)");
        assertNull(s.lagLiveRecords());

        clock.advance(Duration.ofSeconds(1));
        h.sample();
        assertEquals(0.0, h.latest().eventsInPerSecond(), "nothing written in the last interval");
        assertNull(h.latest().ackP50Millis(), "no ack in the interval, no latency");
    }

    @Test
    void latencyPercentilesAreOfTheIntervalOnly() {
        StatusHistory h = history(10);
        for (int i = 0; i < 50; i++) METRICS.acked("PERSISTED", System.nanoTime() - 2_000_000_000L); // 2 s: before
        h.sample();
        for (int i = 0; i < 99; i++) METRICS.acked("PERSISTED", System.nanoTime() - 5_000_000L); // ~5 ms
        METRICS.acked("PERSISTED", System.nanoTime() - 300_000_000L); // one at ~300 ms
        clock.advance(Duration.ofSeconds(1));
        h.sample();
        Sample s = h.latest();
        // bucket bounds near 5 ms are 4.19, 5.59 ms: interpolation stays inside the bucket
        assertTrue(s.ackP50Millis() > 4.1 && s.ackP50Millis() < 5.6, "p50 " + s.ackP50Millis());
        assertTrue(s.ackP99Millis() < 6, "the 2 s acks before the interval must not count: p99 " + s.ackP99Millis());
    }

    @Test
    void theRingKeepsTheNewestSamplesAndAnswersSince() {
        StatusHistory h = history(3);
        h.sample();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(1));
            h.sample();
        }
        long now = clock.millis();
        List<Sample> all = h.since(0);
        assertEquals(List.of(now - 2000, now - 1000, now), all.stream().map(Sample::time).toList());
        assertEquals(List.of(now), h.since(now - 1000).stream().map(Sample::time).toList());
        assertEquals(List.of(), h.since(now));
    }

    @Test
    void aStartedHistorySamplesOnItsOwnThreadUntilClosed() throws Exception {
        StatusHistory h = new StatusHistory(new StatusMeters(REGISTRY), walBytes::get, Clock.systemUTC(),
                Duration.ofMillis(50), 100).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (h.since(0).size() < 3 && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(h.since(0).size() >= 3, "samples: " + h.since(0).size());
            assertThrows(IllegalStateException.class, h::start);
        } finally {
            h.close();
        }
        Thread.sleep(200); // a tick that was running when close() came may still land
        int after = h.since(0).size();
        Thread.sleep(300);
        assertEquals(after, h.since(0).size(), "no sample after close");
    }

    @Test
    void badArgumentsAreRefused() {
        StatusMeters meters = new StatusMeters(REGISTRY);
        assertThrows(IllegalArgumentException.class,
                () -> new StatusHistory(meters, walBytes::get, clock, Duration.ZERO, 10));
        assertThrows(IllegalArgumentException.class,
                () -> new StatusHistory(meters, walBytes::get, clock, Duration.ofSeconds(1), 0));
    }

    @Test
    void theTimerItReadsIsTheOneIntakeMetricsRecords() {
        Timer t = REGISTRY.find(StatusMeters.ACK_LATENCY).timer();
        assertTrue(t != null, "holdfast.intake.ack.latency is registered under the name StatusMeters reads");
        assertTrue(REGISTRY.find(StatusMeters.EVENTS_WRITTEN).counter() != null);
    }
}
