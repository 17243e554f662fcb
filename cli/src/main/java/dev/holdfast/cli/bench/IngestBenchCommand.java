package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.client.Endpoints;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code holdfast bench ingest}: parses options, wires the run together and maps it to an exit code. */
@Command(name = "ingest",
        mixinStandardHelpOptions = true,
        description = {
                "Streams event batches to an intake from N simulated agents and reports acknowledged "
                        + "throughput and ack latency. Survives intake restarts: reconnects with backoff and "
                        + "resends everything not yet persisted.",
                "Exit 0 when everything produced was acknowledged, 1 when something stayed "
                        + "unacknowledged or was INVALID, 2 on usage errors."})
public final class IngestBenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    dev.holdfast.cli.ClientTlsOptions tls = new dev.holdfast.cli.ClientTlsOptions();

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Intake gRPC address(es): IPs or DNS names (resolved with a cached last known good set); "
                    + "agents fail over between them.")
    String target;

    @Option(names = "--agents", defaultValue = "4", description = "Concurrent agents (one stream each). Default: ${DEFAULT-VALUE}.")
    int agents;

    @Option(names = "--batch", defaultValue = "500", description = "Events per batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--event-bytes", defaultValue = "200", description = "Serialized size of each event. Default: ${DEFAULT-VALUE}.")
    int eventBytes;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Budget budget;

    static final class Budget {
        @Option(names = "--duration", paramLabel = "SECONDS", description = "Produce for this long after warmup (default 10 s if neither option is given).")
        Long durationSeconds;

        @Option(names = "--batches", paramLabel = "N", description = "Batches per agent that must be acknowledged before exit.")
        Long batches;
    }

    @Option(names = "--acked-log", paramLabel = "FILE", description = "Append 'agent_id seq' per acknowledged batch.")
    Path ackedLog;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "BATCHES_PER_SEC",
            description = "New batches per second per agent; 0 = as fast as the window allows. Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--stagger", description = "With --rate: spread the agents' schedules evenly over the interval, as "
            + "independent agents would send. By default every agent sends at the same instant: bursts, the harder "
            + "case for the intake's group commit.")
    boolean stagger;

    @Option(names = "--window", defaultValue = "8", description = "Unacknowledged batches per agent. Default: ${DEFAULT-VALUE}.")
    int window;

    @Option(names = "--priority", defaultValue = "normal", converter = PriorityConverter.class,
            description = "critical|normal|bulk. Default: ${DEFAULT-VALUE}.")
    Priority priority;

    @Option(names = "--agent-prefix", defaultValue = "bench", description = "Agent ids are PREFIX-0..N-1. Default: ${DEFAULT-VALUE}.")
    String agentPrefix;

    @Option(names = "--dns-refresh", defaultValue = "30", paramLabel = "SECONDS",
            description = "Re-resolve DNS names in --target at most this often; the last good addresses are kept "
                    + "when a lookup fails. Default: ${DEFAULT-VALUE}.")
    long dnsRefreshSeconds;

    @Option(names = "--stop-file", paramLabel = "FILE",
            description = "Stop producing once this file exists, then wait for outstanding acks and exit as at the "
                    + "end of --duration (lets a harness end the load exactly when its faults are over).")
    Path stopFile;

    @Option(names = "--report-json", paramLabel = "FILE", description = "Also write the summary as JSON.")
    Path reportJson;

    @Option(names = "--warmup", paramLabel = "SECONDS",
            description = "Excluded from throughput/latency. Default: 2 with --duration, 0 with --batches.")
    Long warmupSeconds;

    @Override
    public Integer call() throws InterruptedException, java.io.IOException {
        IngestConfig config = toConfig();
        dev.holdfast.client.Endpoints.ChannelFactory channels = tls.channels(); // a bad file: one line, exit 4
        PrintStream out = System.out;
        AckSink sink = config.ackedLog() == null ? AckSink.none() : AckedLog.open(config.ackedLog());
        CountDownLatch finished = new CountDownLatch(1);
        try (IngestBench bench = new IngestBench(config, sink, System.err, System::nanoTime, channels)) {
            // Ctrl-C: abandon outstanding batches but still print the summary and flush the acked log.
            Thread hook = new Thread(() -> {
                bench.abort();
                try {
                    finished.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            if (stopFile != null) {
                Thread watcher = new Thread(() -> {
                    try {
                        while (!Files.exists(stopFile)) {
                            Thread.sleep(100);
                        }
                        bench.finish();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "bench-stop-file");
                watcher.setDaemon(true);
                watcher.start();
            }
            BenchReport report;
            try {
                report = bench.run();
            } finally {
                sink.close();
            }
            out.print(report.toText());
            out.flush();
            if (config.reportJson() != null) {
                report.writeJson(config.reportJson());
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook is waiting for us; counting down below lets it finish
            }
            return report.exitCode();
        } finally {
            finished.countDown();
        }
    }

    private IngestConfig toConfig() {
        try {
            List<Endpoints.Target> targets = Endpoints.Target.parseList(target);
            long duration = 0;
            long batches = 0;
            if (budget != null && budget.batches != null) {
                batches = budget.batches;
                if (batches <= 0) {
                    throw new IllegalArgumentException("--batches must be > 0");
                }
            } else {
                duration = budget != null && budget.durationSeconds != null ? budget.durationSeconds : 10;
                if (duration <= 0) {
                    throw new IllegalArgumentException("--duration must be > 0");
                }
            }
            long warmup = warmupSeconds != null ? warmupSeconds : (duration > 0 ? 2 : 0);
            return new IngestConfig(targets, agents, batch, eventBytes, duration, batches, ackedLog,
                    window, priority, agentPrefix, reportJson, warmup, IngestConfig.DEFAULT_DRAIN_SECONDS,
                    poolSize(eventBytes), rate, dnsRefreshSeconds, stagger);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The pre-built events take at most 64 MiB: 4,096 events of 400 KB would not fit a small heap. */
    static int poolSize(int eventBytes) {
        return (int) Math.max(1, Math.min(IngestConfig.DEFAULT_POOL_SIZE, (64L << 20) / Math.max(1, eventBytes)));
    }
}
