package dev.holdfast.cli.bench;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** Prints one line per second to stderr so a long run (or a stuck one) is visible as it happens. */
final class ProgressReporter implements AutoCloseable {

    private final BenchStats stats;
    private final PrintStream out;
    private final LongSupplier clock;
    private final long startNanos;
    private ScheduledExecutorService timer;
    private long lastEvents;
    private long lastNanos;

    ProgressReporter(BenchStats stats, PrintStream out, LongSupplier clock, long startNanos) {
        this.stats = stats;
        this.out = out;
        this.clock = clock;
        this.startNanos = startNanos;
    }

    void start() {
        lastNanos = startNanos;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    private void tick() {
        long now = clock.getAsLong();
        BenchStats.Snapshot s = stats.snapshot();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        long rate = Math.round((s.eventsAcked() - lastEvents) / seconds);
        lastEvents = s.eventsAcked();
        lastNanos = now;
        out.printf("[%4ds] %,11d ev/s  acked %,d ev  in-flight %d  retries %d  reconnects %d  invalid %d%n",
                TimeUnit.NANOSECONDS.toSeconds(now - startNanos), rate, s.eventsAcked(), s.inFlight(),
                s.retries(), s.reconnects(), s.invalid());
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
