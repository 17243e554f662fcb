package dev.holdfast.cli;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.shipper.Shipper;
import dev.holdfast.shipper.config.Overrides;
import dev.holdfast.shipper.config.ShipperConfig;
import dev.holdfast.shipper.config.SourceKind;
import dev.holdfast.client.Endpoints;
import dev.holdfast.wal.WalDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The whole node in one command, on embedded defaults: a single-node Kafka broker (a child process the intake keeps
 * running), an intake with its WAL and forwarder, and a shipper sending file events from a demo directory, with a child shell making file activity
 * there. What an operator runs first; every part is the real one, wired as in production.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a whole node on embedded defaults: Kafka broker, intake (WAL + forwarder) and a shipper "
                + "watching a demo directory where a child shell creates, writes, renames and deletes files. "
                + "Prints live counts; Ctrl-C stops everything cleanly.")
public final class NodeCommand implements Callable<Integer> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeCommand.class);

    /** One file written, appended to, renamed and an old one deleted twice a second: visible, never growing. */
    private static final String DEMO_ACTIVITY = """
            i=0
            while :; do
              i=$((i+1))
              echo "line $i" > "$1/report-$i.log"
              echo "more" >> "$1/report-$i.log"
              mv "$1/report-$i.log" "$1/report-$i.done"
              rm -f "$1/report-$((i-5)).done"
              sleep 0.5
            done
            """;

    @Option(names = "--data", description = "Data directory: WAL, Kafka, spool, demo (default $HOLDFAST_HOME/data or ./data)")
    Path data;
    @Option(names = "--grpc-port", defaultValue = "4317", description = "Intake gRPC port (default ${DEFAULT-VALUE}; 0 = any free)")
    int grpcPort;
    @Option(names = "--http-port", defaultValue = "8080", description = "Intake /metrics /healthz /readyz port (default ${DEFAULT-VALUE})")
    int httpPort;
    @Option(names = "--otlp-http-port", defaultValue = "4318", description = "Intake OTLP/HTTP port (default ${DEFAULT-VALUE}; 0 = off); OTLP/gRPC is on the gRPC port")
    int otlpHttpPort;
    @Option(names = "--metrics-port", defaultValue = "9464", description = "Shipper /metrics port (default ${DEFAULT-VALUE}; -1 = none)")
    int metricsPort;
    @Option(names = "--kafka", defaultValue = "embedded", description = "embedded | BOOTSTRAP | none (default ${DEFAULT-VALUE})")
    String kafka;
    @Option(names = "--watch", description = "Directory the shipper watches (default DATA/demo)")
    Path watch;
    @Option(names = "--no-demo", description = "Do not start the demo file activity")
    boolean noDemo;
    @Option(names = "--source", defaultValue = "auto", description = "ebpf | fallback | auto (default ${DEFAULT-VALUE}: eBPF, "
            + "or the inotify fallback with the reason when eBPF cannot load, e.g. without root)")
    String source;
    @Option(names = "--status-interval", defaultValue = "2", description = "Seconds between count lines (default ${DEFAULT-VALUE})")
    int statusSeconds;

    @Override
    public Integer call() throws Exception {
        // failures (an invalid configuration, a directory it cannot use, eBPF unavailable, a port in use) are
        // reported by ErrorReporter: one line each and their exit code
        SourceKind kind = SourceKind.parse(source.toLowerCase(Locale.ROOT));
        if (kind == null) {
            throw new InvalidConfigException(List.of("--source: \"" + source + "\" is not one of ebpf, fallback, auto"));
        }
        IntakeConfig intakeConfig = IntakeConfig.defaults().withOverrides(
                new dev.holdfast.intake.config.Overrides(data, grpcPort, httpPort, null, kafka, null, null, null, null,
                        null, null, otlpHttpPort));
        Path dataDir = intakeConfig.dataDir();
        WalDirectory.checkWritable(dataDir); // before the demo directory is made in it
        Path watched = Files.createDirectories(watch != null ? watch : dataDir.resolve("demo")).toRealPath();

        PrometheusMeterRegistry registry = IntakeServer.newRegistry();
        IntakeServer server = new IntakeServer(intakeConfig, registry);
        Shipper shipper;
        ShipperConfig shipperConfig;
        try {
            server.start();
            shipperConfig = ShipperConfig.fromOverrides(new Overrides(
                    List.of(new Endpoints.Target("127.0.0.1", server.grpcPort())), List.of(watched.toString()), List.of(),
                    dataDir.resolve("spool"), kind, metricsPort, null));
            shipper = Shipper.open(shipperConfig); // its spool directory is checked like the WAL's
        } catch (Exception e) {
            server.close(); // whatever had started is released before the error is reported
            throw e;
        }
        shipper.start();
        String shipperMetrics = "none";
        if (metricsPort >= 0) {
            try {
                shipperMetrics = "http://127.0.0.1:" + shipper.serveMetrics("127.0.0.1", metricsPort) + "/metrics";
            } catch (IOException e) {
                shipper.close();
                server.close();
                throw new OperatorError(ExitCodes.FAILED,
                        "cannot serve shipper metrics on port " + metricsPort + ": " + e.getMessage(), e);
            }
        }
        Process demo = noDemo ? null : new ProcessBuilder("sh", "-c", DEMO_ACTIVITY, "holdfast-demo", watched.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (demo != null) demo.destroy();
                shipper.close(); // first: what it drained reaches the spool, what it sent is acknowledged or kept
                server.close();
                System.out.println(counts(shipper, registry) + " (stopped)");
            } catch (Exception e) {
                LOG.error("error while closing", e);
            } finally {
                stopped.countDown();
            }
        }, "node-shutdown"));
        System.out.printf("holdfast node running: intake grpc=%d http=%d otlp-http=%s (OTLP/gRPC on grpc) wal=%s kafka=%s"
                        + " topic=%s | shipper source=%s watching %s, spool %s, metrics %s | demo activity: %s%n",
                server.grpcPort(), server.httpPort(), server.otlpHttpPort() < 0 ? "off" : server.otlpHttpPort(), IntakeServer.walDir(dataDir).toAbsolutePath(), server.kafka(),
                intakeConfig.forwarder().topic(), shipper.sourceName(), watched, shipperConfig.spool().dir().toAbsolutePath(),
                shipperMetrics, demo == null ? "off" : "a shell writing, renaming and deleting files there (pid " + demo.pid() + ")");
        System.out.flush();
        while (!stopped.await(Math.max(1, statusSeconds), TimeUnit.SECONDS)) {
            System.out.println(counts(shipper, registry));
            System.out.flush();
        }
        return 0;
    }

    /** Where the events are: drained by the shipper, acknowledged by the intake, in the WAL, forwarded to Kafka. */
    private static String counts(Shipper shipper, PrometheusMeterRegistry registry) {
        return String.format("node: %s | intake: wal events=%d | forwarder: to kafka=%d",
                shipper.statusLine(), (long) sum(registry, "holdfast.wal.appended.events"), (long) sum(registry, "holdfast.forwarder.sent.events"));
    }

    private static double sum(PrometheusMeterRegistry registry, String name) {
        return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }
}
