package dev.holdfast.cli;

import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.config.Overrides;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "intake", mixinStandardHelpOptions = true,
        description = "Run an intake node: gRPC intake, write-ahead log, /metrics /healthz /readyz. Refuses to start, "
                + "with exit code 4 and one line naming it, on a data directory it cannot write.")
public final class IntakeCommand implements Callable<Integer> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(IntakeCommand.class);

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--config", description = "YAML configuration file (see holdfast-example.yaml)")
    Path config;
    @Option(names = "--data", description = "Data directory (WAL under DIR/wal). Default: $HOLDFAST_HOME/data or ./data")
    Path data;
    @Option(names = "--grpc-port", description = "gRPC port (default 4317; 0 = any free port)")
    Integer grpcPort;
    @Option(names = "--http-port", description = "HTTP port for metrics and health (default 8080; 0 = any free port)")
    Integer httpPort;
    @Option(names = "--durability", description = "written | fsync | replicated (default fsync)")
    String durability;
    @Option(names = "--kafka", description = "BOOTSTRAP (host:port,...) | embedded | none (default embedded: a "
            + "single-node broker in a child process, data under DIR/kafka, its log DIR/kafka.log)")
    String kafka;
    @Option(names = "--topic", description = "Kafka topic for events (default holdfast.events)")
    String topic;
    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain (leaf first): TLS on the "
            + "gRPC port; re-read when it changes (config tls.cert)")
    Path tlsCert;
    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --tls-cert (config tls.key)")
    Path tlsKey;
    @Option(names = "--tls-client-ca", paramLabel = "FILE", description = "PEM CA bundle: clients must present a "
            + "certificate it signed, mutual TLS (config tls.clientCa, tls.clientAuth)")
    Path tlsClientCa;
    @Option(names = "--insecure", description = "Allow plaintext listeners on non-loopback addresses; without TLS, "
            + "listen on all interfaces (config tls.allowInsecure)")
    boolean insecure;
    @Option(names = "--auth-tokens", paramLabel = "FILE", description = "Bearer token file (auth.tokens): lines of "
            + "'sha256:<hex> IDENTITY [AGENT-ID-GLOB...]' made with 'holdfast token hash'; reloaded when it changes. "
            + "Callers presenting a token may send only as its identity (or its globs); see docs/SECURITY.md")
    Path authTokens;
    @Option(names = "--otlp-http-port", description = "OTLP/HTTP port (default 4318; 0 = off); OTLP/gRPC is served "
            + "on the gRPC port (config otlp.http.port)")
    Integer otlpHttpPort;
    @Option(names = "--check", description = "Start (recover the WAL, bind the ports), report, and exit: "
            + "a pre-flight check for a configuration and data directory")
    boolean check;

    /** Reloading reads the files again later: pin them to where they were when the intake started. */
    private static Path absolute(Path p) {
        return p == null ? null : p.toAbsolutePath();
    }

    @Override
    public Integer call() throws Exception {
        Overrides overrides = new Overrides(data, grpcPort, httpPort, durability, kafka, topic, absolute(tlsCert),
                absolute(tlsKey), absolute(tlsClientCa), insecure ? Boolean.TRUE : null, authTokens, otlpHttpPort);
        // failures (an invalid configuration, a data directory it cannot use, a port in use, an unusable certificate
        // or token file) are reported by ErrorReporter: one line each and their exit code
        IntakeConfig cfg = config == null ? IntakeConfig.defaults(overrides) : IntakeConfig.load(config, overrides);
        if (config != null) {
            Logging.apply(Logging.Flags.of(spec).over(cfg.log())); // the file's log section, under the flags
        }
        CountDownLatch stopped = new CountDownLatch(1);
        IntakeServer server = new IntakeServer(cfg, IntakeServer.newRegistry());
        try {
            server.start(); // checks every directory it writes before starting anything
        } catch (Exception e) {
            server.close(); // whatever had started (HTTP, the WAL) is released before the error is reported
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                LOG.error("error while closing", e);
            } finally {
                stopped.countDown();
            }
        }, "intake-shutdown"));
        // One stable line for humans and for scripts that wait for readiness.
        System.out.printf("holdfast intake %s listening: grpc=%s:%d http=%s:%d otlp-http=%s wal=%s durability=%s "
                        + "kafka=%s topic=%s recovery=\"%s\" tls=%s%n",
                cfg.nodeId(), cfg.grpc().host(), server.grpcPort(), cfg.http().host(), server.httpPort(),
                server.otlpHttpPort() < 0 ? "off" : cfg.grpc().host() + ":" + server.otlpHttpPort(),
                IntakeServer.walDir(cfg.dataDir()).toAbsolutePath(), cfg.durability().name().toLowerCase(),
                server.kafka(), cfg.forwarder().topic(), server.wal().recovery(),
                !cfg.tls().enabled() ? "off" : (cfg.tls().clientCa() == null ? "tls" : "mtls")
                        + (cfg.tls().onHttp() ? "+http" : ""));
        System.out.flush();
        if (check) {
            System.exit(0); // the shutdown hook closes the server cleanly
        }
        stopped.await();
        return 0;
    }
}
