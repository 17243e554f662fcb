package dev.holdfast.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A clock that moves only when the test moves it, so that what depends on time (a checkpoint interval, a retention,
 * a record's age, a measured wait) happens when the test says rather than after a sleep. It is both kinds of clock
 * the code takes: a {@link Clock} for wall time, and, as a {@link LongSupplier}, monotonic nanoseconds (the same
 * instant, in nanoseconds since the epoch), so one {@link #advance} moves both. It never moves on its own: a wait
 * bounded by it (a read timeout, say) lasts until the test moves it.
 */
public final class ManualClock extends Clock implements LongSupplier {
    private final AtomicLong epochNanos;
    private final ZoneId zone;

    /** Stands at the real time of its creation: file times and receive times taken by the test are near it. */
    public ManualClock() {
        this(Instant.now());
    }

    public ManualClock(Instant start) {
        this(new AtomicLong(start.getEpochSecond() * 1_000_000_000L + start.getNano()), ZoneOffset.UTC);
    }

    private ManualClock(AtomicLong epochNanos, ZoneId zone) {
        this.epochNanos = epochNanos;
        this.zone = zone;
    }

    public ManualClock advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a monotonic clock does not go back: " + by);
        }
        epochNanos.addAndGet(by.toNanos());
        return this;
    }

    /** Monotonic nanoseconds, as System::nanoTime. */
    @Override
    public long getAsLong() {
        return epochNanos.get();
    }

    @Override
    public long millis() {
        return Math.floorDiv(epochNanos.get(), 1_000_000L);
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochSecond(0, epochNanos.get());
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** The same clock (advancing one advances the other) seen in another zone. */
    @Override
    public Clock withZone(ZoneId other) {
        return new ManualClock(epochNanos, other);
    }
}
