package dev.holdfast.cli;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.shipper.Shipper;
import dev.holdfast.shipper.config.Overrides;
import dev.holdfast.shipper.config.ShipperConfig;
import dev.holdfast.shipper.config.SourceKind;
import dev.holdfast.client.Endpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "shipper", mixinStandardHelpOptions = true,
        description = "Run the node agent: file events filtered in the kernel (eBPF) -> disk spool -> intake over gRPC. "
                + "Exit code 3: eBPF unavailable (the line says why; try --source fallback).")
public final class ShipperCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--intake", split = ",", paramLabel = "HOST:PORT",
            description = "Intake endpoints, comma-separated or repeated (DNS names are re-resolved; the last known "
                    + "good addresses are kept when resolution fails). Replaces intake.endpoints of --config.")
    List<String> intake = new ArrayList<>();
    @Option(names = "--config", description = "YAML configuration (see holdfast-shipper-example.yaml in ebpf-shipper)")
    Path config;
    @Option(names = "--watch", paramLabel = "PREFIX", description = "Directory to watch (repeatable); replaces watch.include")
    List<String> watch = new ArrayList<>();
    @Option(names = "--exclude", paramLabel = "PREFIX", description = "Directory to ignore (repeatable); added to watch.exclude")
    List<String> exclude = new ArrayList<>();
    @Option(names = "--spool", paramLabel = "DIR", description = "Spool directory (default $HOLDFAST_HOME/data/spool)")
    Path spool;
    @Option(names = "--source", description = "ebpf | fallback | auto (default ebpf; fallback = inotify, degraded)")
    String source;
    @Option(names = "--metrics-port", description = "Prometheus /metrics port (default 9464; 0 = any free port, -1 = none)")
    Integer metricsPort;
    @Option(names = "--agent-id", description = "Agent id sent with every batch (default: the host name)")
    String agentId;
    @picocli.CommandLine.Mixin
    ClientTlsOptions tls = new ClientTlsOptions();
    @Option(names = "--status-interval", defaultValue = "5", description = "Seconds between status lines (0 = none)")
    int statusSeconds;

    @Override
    public Integer call() throws Exception {
        // failures (an invalid configuration, eBPF unavailable, a spool directory it cannot use) are reported by
        // ErrorReporter: one line each and their exit code
        ShipperConfig cfg = config();
        if (config != null) {
            Logging.apply(Logging.Flags.of(spec).over(cfg.log())); // the file's log section, under the flags
        }
        Shipper shipper = Shipper.open(cfg); // the spool directory is checked like the intake's WAL
        shipper.start();
        String metrics = "none";
        if (cfg.metrics().port() >= 0) {
            try {
                String host = cfg.metrics().host();
                // HOST:PORT written as an intake's endpoint is, an IPv6 address in brackets
                metrics = "http://" + new Endpoints.Target(host, shipper.serveMetrics(host, cfg.metrics().port()))
                        + "/metrics";
            } catch (IOException e) {
                shipper.close();
                throw new OperatorError(ExitCodes.FAILED, "cannot serve metrics on " + cfg.metrics().host() + " port "
                        + cfg.metrics().port() + " (metrics.host, metrics.port): " + e.getMessage(), e);
            }
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                shipper.close();
                System.out.println(shipper.statusLine() + " (stopped)");
            } finally {
                stopped.countDown();
            }
        }, "shipper-shutdown"));
        // One stable line for humans and for scripts that wait for readiness.
        System.out.printf("holdfast shipper %s running: source=%s watch=%s exclude=%s spool=%s intake=%s metrics=%s%n",
                cfg.agentId(), shipper.sourceName(), cfg.watch().include().isEmpty() ? "[everything]" : cfg.watch().include(),
                cfg.watch().exclude(), cfg.spool().dir().toAbsolutePath(), cfg.intake().endpoints(), metrics);
        System.out.flush();
        while (!stopped.await(statusSeconds > 0 ? statusSeconds : 3600, TimeUnit.SECONDS)) {
            if (statusSeconds > 0) {
                System.out.println(shipper.statusLine());
                System.out.flush();
            }
        }
        return 0;
    }

    /** @throws InvalidConfigException naming the option or field, like a configuration file's problems */
    private ShipperConfig config() {
        List<Endpoints.Target> targets = new ArrayList<>();
        for (String t : intake) {
            try {
                targets.add(Endpoints.Target.parse(t));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(List.of("--intake: " + e.getMessage()));
            }
        }
        SourceKind kind = null;
        if (source != null) {
            kind = SourceKind.parse(source.toLowerCase(Locale.ROOT));
            if (kind == null) {
                throw new InvalidConfigException(List.of("--source: \"" + source + "\" is not one of ebpf, fallback, auto"));
            }
        }
        Path spoolDir = spool;
        if (spoolDir == null && config == null) {
            spoolDir = Path.of(System.getenv().getOrDefault("HOLDFAST_HOME", "."), "data", "spool");
        }
        Overrides o = new Overrides(targets, absolute(watch), absolute(exclude), spoolDir, kind, metricsPort, agentId,
                tls.toTls(), tls.tokenFile());
        if (config == null && targets.isEmpty()) {
            throw new InvalidConfigException(List.of("--intake: give at least one HOST:PORT (or intake.endpoints in --config)"));
        }
        return config == null ? ShipperConfig.fromOverrides(o) : ShipperConfig.load(config, o);
    }

    /**
     * The kernel reports real, absolute paths: a relative or symlinked prefix from the command line would never
     * match, so it is resolved here (an existing directory through its symlinks).
     */
    private static List<String> absolute(List<String> prefixes) {
        List<String> out = new ArrayList<>();
        for (String p : prefixes) {
            Path path = Path.of(p).toAbsolutePath().normalize();
            try {
                if (Files.isDirectory(path)) {
                    path = path.toRealPath();
                }
            } catch (IOException e) {
                // keep the absolute form; the source reports a directory it cannot watch
            }
            out.add(path.toString());
        }
        return out;
    }
}
