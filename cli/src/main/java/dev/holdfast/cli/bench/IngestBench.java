package dev.holdfast.cli.bench;

import dev.holdfast.client.Backoff;
import dev.holdfast.client.Endpoints;
import dev.holdfast.client.IntakeSession;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs the agents of one {@code bench ingest}: builds the event pool and channels, starts one
 * thread per agent, takes the measurement window and assembles the {@link BenchReport}.
 * Lifecycle: construct, {@link #run()} once, {@link #close()}; {@link #abort()} from any thread.
 */
final class IngestBench implements AutoCloseable {

    static final long BACKOFF_BASE_MS = 50;
    static final long BACKOFF_CAP_MS = 2_000;

    private final IngestConfig config;
    private final AckSink ackSink;
    private final PrintStream log;
    private final LongSupplier clock;
    private final BenchStats stats = new BenchStats();
    private final List<Endpoints> endpoints = new ArrayList<>();
    private volatile RunControl control;
    private volatile boolean abortRequested;
    private volatile boolean finishRequested;

    private final Endpoints.ChannelFactory channels;

    IngestBench(IngestConfig config, AckSink ackSink, PrintStream log, LongSupplier clock) {
        this(config, ackSink, log, clock, Endpoints::plaintextChannel);
    }

    /** @param channels how each agent connects (plaintext, TLS); owned: closed with the bench */
    IngestBench(IngestConfig config, AckSink ackSink, PrintStream log, LongSupplier clock,
                Endpoints.ChannelFactory channels) {
        this.config = config;
        this.ackSink = ackSink;
        this.log = log;
        this.clock = clock;
        this.channels = channels;
    }

    BenchReport run() throws InterruptedException {
        EventPool pool = EventPool.build(config.poolSize(), config.eventBytes(), config.priority(), 42);
        BatchEncoder encoder = new BatchEncoder(pool, config.batchSize());

        long start = clock.getAsLong();
        long warmupNanos = TimeUnit.SECONDS.toNanos(config.warmupSeconds());
        long measureFrom = start + warmupNanos;
        control = config.byDuration()
                ? RunControl.byDuration(measureFrom + TimeUnit.SECONDS.toNanos(config.durationSeconds()),
                TimeUnit.SECONDS.toNanos(config.drainSeconds()))
                : RunControl.byBatches(config.batchesPerAgent());
        if (finishRequested) {
            control.finish(clock.getAsLong());
        }
        if (abortRequested) {
            control.abort();
        }

        CountDownLatch done = new CountDownLatch(config.agents());
        List<IntakeSession> sessions = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        SplittableRandom seeds = new SplittableRandom();
        for (int i = 0; i < config.agents(); i++) {
            // One Endpoints (so one HTTP/2 connection per intake) per agent, as real agents would have.
            Endpoints agentEndpoints = new Endpoints(config.targets(), TimeUnit.SECONDS.toNanos(config.dnsRefreshSeconds()),
                    InetAddress::getAllByName, channels.shared(), clock);
            endpoints.add(agentEndpoints);
            GeneratedBatches batches = new GeneratedBatches(config.agentId(i), encoder, control, ackSink,
                    config.batchIntervalNanos(), start + config.firstBatchOffsetNanos(i));
            IntakeSession session = new IntakeSession(config.agentId(i), agentEndpoints, batches, stats,
                    new Backoff(BACKOFF_BASE_MS, BACKOFF_CAP_MS, seeds.split()),
                    IntakeSession.Options.of(config.window()), clock);
            sessions.add(session);
            Thread thread = new Thread(() -> {
                try {
                    session.run();
                } finally {
                    done.countDown();
                }
            }, "bench-" + config.agentId(i));
            threads.add(thread);
        }

        try (ProgressReporter progress = new ProgressReporter(stats, log, clock, start)) {
            progress.start();
            threads.forEach(Thread::start);

            // Warmup: JIT, connection setup and the intake's first segment roll stay out of the numbers.
            boolean finishedEarly = awaitUntil(done, measureFrom);
            boolean warmupExcluded = warmupNanos > 0 && !finishedEarly;
            BenchStats.Snapshot base = warmupExcluded ? stats.startMeasurement() : zero();
            long measureStart = warmupExcluded ? clock.getAsLong() : start;

            // By duration the window ends when production stops; the drain is excluded.
            BenchStats.Snapshot measuredEnd = null;
            long measureEnd = 0;
            if (control.byDuration()) {
                awaitUntil(done, control.stopProducingAtNanos());
                measureEnd = clock.getAsLong();
                measuredEnd = stats.snapshot();
            }
            Histogram latency = stats.takeLatency(); // latency of drained batches is not steady-state
            done.await();
            for (Thread t : threads) {
                t.join();
            }
            long end = clock.getAsLong();
            BenchStats.Snapshot total = stats.snapshot();
            if (measuredEnd == null) {
                measuredEnd = total;
                measureEnd = end;
                latency.add(stats.takeLatency());
            }
            return report(sessions, pool, base, measuredEnd, total, latency, measureStart, measureEnd, start, end,
                    warmupExcluded);
        }
    }

    /** Waits until {@code deadlineNanos} or until all agents are done; true if they are done. */
    private boolean awaitUntil(CountDownLatch done, long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - clock.getAsLong();
        return left <= 0 ? done.getCount() == 0 : done.await(left, TimeUnit.NANOSECONDS);
    }

    private BenchReport report(List<IntakeSession> sessions, EventPool pool, BenchStats.Snapshot base,
                               BenchStats.Snapshot measured, BenchStats.Snapshot total, Histogram latency,
                               long measureStart, long measureEnd, long start, long end, boolean warmupExcluded) {
        long unacked = 0;
        for (IntakeSession s : sessions) {
            unacked += s.unacknowledgedAtEnd();
        }
        long dnsLookups = 0;
        long dnsFailures = 0;
        for (Endpoints e : endpoints) {
            dnsLookups += e.resolutions();
            dnsFailures += e.resolutionFailures();
        }
        double measuredSeconds = Math.max(1e-9, (measureEnd - measureStart) / 1e9);
        long events = measured.eventsAcked() - base.eventsAcked();
        long bytes = measured.payloadBytesAcked() - base.payloadBytesAcked();
        // A run that moved nothing (intake never reachable) is a failure, not a vacuous success.
        boolean failed = unacked > 0 || total.invalid() > 0 || control.aborted() || total.batchesAcked() == 0;
        return new BenchReport(config.target(), config.agents(), config.window(), config.batchSize(),
                pool.averageEventBytes(), config.priority().name(), config.byDuration() ? "duration" : "batches",
                config.warmupSeconds(), warmupExcluded,
                measuredSeconds, measured.batchesAcked() - base.batchesAcked(), events,
                events / measuredSeconds, bytes / 1e6 / measuredSeconds,
                micros(latency.getValueAtPercentile(50)), micros(latency.getValueAtPercentile(99)),
                micros(latency.getValueAtPercentile(99.9)), micros(latency.getMaxValue()), latency.getTotalCount(),
                distribution(latency),
                (end - start) / 1e9, total.batchesAcked(), total.eventsAcked(), total.batchesSent(),
                total.resumedFromWelcome(), total.retries(), total.duplicates(), total.invalid(), total.reconnects(),
                total.streamFailures(), total.unexpectedAcks(), unacked, dnsLookups, dnsFailures, stats.invalidMessages(),
                failed ? 1 : 0);
    }

    private static List<BenchReport.LatencyPoint> distribution(Histogram latency) {
        List<BenchReport.LatencyPoint> points = new ArrayList<>();
        for (HistogramIterationValue v : latency.percentiles(5)) {
            points.add(new BenchReport.LatencyPoint(v.getPercentileLevelIteratedTo(),
                    micros(v.getValueIteratedTo())));
        }
        return points;
    }

    private static double micros(long micros) {
        return micros / 1_000.0;
    }

    private static BenchStats.Snapshot zero() {
        return new BenchStats.Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Stops production as if the duration had ended (--stop-file): outstanding batches are still waited for. */
    void finish() {
        finishRequested = true;
        RunControl c = control;
        if (c != null) {
            c.finish(clock.getAsLong());
        }
    }

    /** Stops production and abandons outstanding batches (Ctrl-C); run() then returns promptly. */
    void abort() {
        abortRequested = true;
        RunControl c = control;
        if (c != null) {
            c.abort();
        }
    }

    @Override
    public void close() {
        for (Endpoints e : endpoints) {
            e.close();
        }
        channels.close();
    }
}
