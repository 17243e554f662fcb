package dev.holdfast.intake;

import dev.holdfast.metrics.Metrics;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.auth.GrpcAuth;
import dev.holdfast.intake.grpc.GrpcHealth;
import dev.holdfast.intake.grpc.GrpcListener;
import dev.holdfast.intake.grpc.IntakeGrpcService;
import dev.holdfast.intake.grpc.Uncompressed;
import dev.holdfast.intake.otlp.OtlpGrpcServices;
import dev.holdfast.intake.otlp.OtlpHttpServer;
import dev.holdfast.intake.otlp.OtlpIntake;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import dev.holdfast.intake.http.HttpAccess;
import dev.holdfast.intake.http.HttpEndpoints;
import dev.holdfast.intake.http.Readiness;
import dev.holdfast.intake.status.ConnectedAgents;
import dev.holdfast.intake.status.ForwarderState;
import dev.holdfast.intake.status.NodeStatus;
import dev.holdfast.intake.status.StatusHistory;
import dev.holdfast.intake.status.StatusMeters;
import dev.holdfast.intake.status.StatusReport;
import dev.holdfast.wal.DiskGuard;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalDirectory;
import dev.holdfast.tls.ReloadingTls;
import dev.holdfast.tls.TlsContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.OpenFiles;
import dev.holdfast.intake.net.RefusalLog;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One intake node: the WAL, the gRPC intake service and the HTTP endpoints, started in that order (nothing is
 * accepted before the WAL has recovered) and closed in reverse (the WAL drains and syncs what was accepted).
 */
public final class IntakeServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IntakeServer.class);
    static final long OVERLOAD_RETRY_AFTER_MS = 200;

    private final IntakeConfig config;
    private final PrometheusMeterRegistry registry;
    private final Clock clock;
    private ReloadingTls tls;
    private Wal wal;
    private GrpcListener grpc;
    private HttpEndpoints http;
    private OtlpHttpServer otlpHttp;
    private volatile boolean ready;
    private GrpcHealth health;
    private Replication replication;
    private GrpcAuth auth;
    /** The status page's history: one sample a second for five minutes. */
    static final Duration STATUS_INTERVAL = Duration.ofSeconds(1);
    static final int STATUS_SAMPLES = 300;
    private ConnectedAgents agents;
    private StatusHistory statusHistory;
    /** Set once the WAL is open: until then /api/status says only who the node is and that it is starting. */
    private volatile NodeStatus status;
    private long startedAt;

    public IntakeServer(IntakeConfig config, PrometheusMeterRegistry registry) {
        this(config, registry, Clock.systemUTC());
    }

    /**
     * @param clock judges certificate expiry (at load and for the expiry gauge) and token-file reloads, and times the
     *              status page's samples and agents' acks
     */
    public IntakeServer(IntakeConfig config, PrometheusMeterRegistry registry, Clock clock) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
    }

    public static WalConfig walConfig(IntakeConfig config) {
        IntakeConfig.Wal w = config.wal();
        // at replicated durability the local WAL is written-level: the copy that must survive is Kafka's
        return new WalConfig(walDir(config.dataDir()), config.durability() == Durability.FSYNC,
                w.groupCommitMaxDelay().toNanos(), w.groupCommitMaxBytes(), w.rollCycle().name(), w.blockSize(),
                new DiskGuard.Limits(w.maxBytes(), w.minFreeBytes(), w.bulkWatermark(), w.normalWatermark(),
                        w.retryAfter().toMillis()),
                WalConfig.CHECKPOINT_INTERVAL_MILLIS);
    }


    public static Path walDir(Path dataDir) {
        return dataDir.resolve("wal");
    }

    /** Every directory this intake writes: the data directory, its WAL, and what forwarding keeps under it. */
    static List<Path> writtenDirectories(IntakeConfig config) {
        List<Path> dirs = new ArrayList<>(List.of(config.dataDir(), walDir(config.dataDir())));
        dirs.addAll(Replication.directories(config));
        return dirs;
    }

    public IntakeServer start() throws IOException {
        // A directory the intake cannot write is the operator's to fix: say which and why in one line before anything
        // starts (or is logged), not from inside Chronicle, RocksDB or the broker halfway through start-up (or, for
        // the forwarder's, only in a log line while the intake runs without forwarding).
        for (Path dir : writtenDirectories(config)) {
            WalDirectory.checkWritable(dir);
        }
        // Likewise a token file that cannot be used, named with its line, before anything starts
        auth = GrpcAuth.start(config.auth(), registry, clock);
        log.info("starting {} ms after JVM start", uptimeMillis());
        // bad certificate files are the operator's to fix too, and found before anything starts
        ListenerTls listenerTls = startTls();
        SslContext grpcTls = listenerTls.grpc();
        SslContext httpTls = listenerTls.http();
        SslContext otlpHttpTls = listenerTls.otlpHttp();
        IntakeMetrics metrics = new IntakeMetrics(registry);
        startedAt = clock.millis();
        agents = new ConnectedAgents(clock);
        // Recovery and the network stack initialise in parallel: a restart is ready sooner, and /healthz answers
        // (with /readyz saying "recovering") while the WAL is still being checked.
        CompletableFuture<Wal> opening = new CompletableFuture<>();
        Thread opener = new Thread(() -> {
            try {
                opening.complete(Wal.open(walConfig(config), metrics));
            } catch (Throwable t) {
                opening.completeExceptionally(t);
            }
        }, "wal-recovery");
        opener.start();
        IntakeConfig.Connections connections = config.limits().connections();
        OpenFiles files = OpenFiles.ofThisProcess();
        // HTTP keeps half the reserve: when gRPC starts refusing for descriptors, /healthz still answers
        ConnectionGate httpGate = gate("http", connections, connections.fdReserve() / 2, files);
        http = new HttpEndpoints(config.http().host(), config.http().port(), registry, this::readiness,
                new HttpAccess(config.auth().httpToken()), httpTls, httpGate, connections.requestTimeout(),
                this::statusReport);
        http.start();
        try {
            wal = opening.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening the WAL", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException("could not open the WAL: " + e.getCause(), e.getCause());
        }
        IntakeConfig.Limits limits = config.limits();
        InflightBytes inflight = new InflightBytes(limits.maxInflightBytes());
        metrics.bindWal(wal.guard(), wal::queuedBatches, inflight);
        metrics.bindRecovery(wal.recovery(), wal::damagedSegments);
        statusHistory = new StatusHistory(new StatusMeters(registry), wal.guard()::walBytes, clock, STATUS_INTERVAL,
                STATUS_SAMPLES).start();
        BatchIntake.ReplicationGate replicated = BatchIntake.ReplicationGate.NONE;
        if (config.forwarder().active()) {
            replication = new Replication(config, wal, registry);
            replication.start();
            if (config.durability() == Durability.REPLICATED) {
                replicated = replication;
            }
        }
        Replication forwarding = replication;
        status = new NodeStatus(config.nodeId(), config.durability(), startedAt, wal.guard(),
                new StatusMeters(registry), statusHistory, agents,
                () -> forwarding == null ? ForwarderState.OFF : forwarding.state(), this::readiness, clock);
        EventSizeLimit eventSize = new EventSizeLimit(limits.maxEventBytes(),
                replication == null ? null : replication.limit());
        BatchValidator validator = new BatchValidator(new BatchValidator.Limits(
                (int) limits.maxBatchBytes(), limits.maxEventsPerBatch(), limits.maxAgentIdBytes()), eventSize);
        BatchIntake intake = new BatchIntake(wal, validator, inflight, metrics, OVERLOAD_RETRY_AFTER_MS, replicated);

        OtlpIntake otlp = new OtlpIntake(wal, inflight, replicated, config.otlp().priority(), limits.maxBatchBytes(),
                eventSize, OVERLOAD_RETRY_AFTER_MS, Clock.systemUTC(), registry);
        List<ServerServiceDefinition> services = new ArrayList<>();
        services.add(auth.intercept(ServerInterceptors.intercept(
                new IntakeGrpcService(intake, wal.sequences(), config.nodeId(), agents).definition(), new Uncompressed())));
        for (ServerServiceDefinition otlpService : new OtlpGrpcServices(otlp).definitions()) {
            services.add(auth.intercept(otlpService));
        }
        health = new GrpcHealth(() -> readiness().ready());
        services.add(health.definition()); // no credentials: a probe has none (GrpcHealth)
        grpc = GrpcListener.start(config.grpc(), limits, grpcTls,
                gate("grpc", connections, connections.fdReserve(), files), registry, services);
        if (config.otlp().httpPort() != 0) {
            // the gRPC listener's host, TLS and authentication: OTLP/HTTP is the same intake in another protocol
            otlpHttp = new OtlpHttpServer(config.grpc().host(), config.otlp().httpPort(), otlp,
                    auth.authenticator().orElse(null), otlpHttpTls,
                    gate("otlp-http", connections, connections.fdReserve(), files), connections.requestTimeout(),
                    connections.partialMessageBytesTotal(), registry);
            otlpHttp.start();
        }
        ready = true;
        wal.verifyInBackground(); // what the start trusted from its marks is walked again, off the start's path
        health.start();
        log.info("intake {} ready {} ms after JVM start: gRPC on {}:{} ({}), HTTP on {}:{} ({}), OTLP/HTTP {},"
                        + " WAL {} ({} durability), auth {}",
                config.nodeId(), uptimeMillis(), config.grpc().host(), grpcPort(), security(grpcTls != null),
                config.http().host(), http.port(), security(httpTls != null),
                otlpHttp == null ? "off" : "on " + config.grpc().host() + ":" + otlpHttp.port() + " ("
                        + security(otlpHttpTls != null) + ")",
                wal.config().dir(), config.durability().name().toLowerCase(), auth.describe());
        return this;
    }

    /** The TLS contexts of the listeners; null where a listener is plaintext. OTLP/HTTP follows gRPC's. */
    private record ListenerTls(SslContext grpc, SslContext http, SslContext otlpHttp) {
    }

    /** Loads the certificate files and starts watching them; no contexts without {@code tls:}. */
    private ListenerTls startTls() throws IOException {
        IntakeConfig.Tls tlsConfig = config.tls();
        if (!tlsConfig.enabled()) {
            return new ListenerTls(null, null, null);
        }
        TlsMetrics tlsMetrics = new TlsMetrics(registry, clock);
        tls = ReloadingTls.load(tlsConfig.files(), clock, tlsMetrics);
        tlsMetrics.bind(tls);
        ClientAuth clientAuth = tlsConfig.clientAuth() == IntakeConfig.Tls.ClientAuth.OPTIONAL ? ClientAuth.OPTIONAL
                : ClientAuth.REQUIRE;
        ListenerTls contexts = new ListenerTls(TlsContexts.grpcServer(tls, clientAuth),
                tlsConfig.onHttp() ? TlsContexts.httpServer(tls, clientAuth) : null,
                config.otlp().httpPort() != 0 ? TlsContexts.httpServer(tls, clientAuth) : null);
        tls.watchOnOwnThread(tlsConfig.reloadInterval());
        return contexts;
    }

    private String security(boolean tlsOn) {
        if (!tlsOn) return "plaintext";
        IntakeConfig.Tls t = config.tls();
        return t.clientCa() == null ? "TLS" : "mutual TLS, client certificate " + t.clientAuth().name().toLowerCase();
    }

    /** The TLS material in use; {@code null} without TLS. */
    public ReloadingTls tls() {
        return tls;
    }

    private ConnectionGate gate(String port, IntakeConfig.Connections c, int fdReserve, OpenFiles files) {
        ConnectionGate gate = new ConnectionGate(port, new ConnectionGate.Limits(c.max(), c.maxPerAddress(), fdReserve),
                files, new RefusalLog(port, registry, clock, Duration.ofSeconds(10)));
        Gauge.builder("connections.open", gate, ConnectionGate::open).tag("port", port)
                .description("Connections open on this port").register(registry);
        return gate;
    }

    private static long uptimeMillis() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    }

    public Readiness readiness() {
        List<String> reasons = new ArrayList<>();
        if (!ready) {
            reasons.add("starting: WAL recovery or gRPC start-up in progress");
        } else if (wal.writerFailure() != null) {
            reasons.add("WAL writer stopped, every batch is refused until a restart: " + wal.writerFailure());
        } else if (!wal.writable()) {
            reasons.add("WAL not writable: disk pressure " + wal.guard().pressure() + ", "
                    + wal.guard().walBytes() + " of " + wal.guard().budgetBytes() + " budget bytes used");
        }
        Readiness r = reasons.isEmpty() ? Readiness.READY : Readiness.notReady(reasons.toArray(String[]::new));
        List<String> details = new ArrayList<>();
        if (wal != null && wal.recovery().damaged()) {
            details.add("WAL damage found at start: " + wal.recovery());
        }
        if (wal != null && !wal.damagedSegments().isEmpty()) {
            details.add("WAL damage found since the start in " + String.join(", ", wal.damagedSegments())
                    + " (readers pass it; the next start repairs it)");
        }
        return details.isEmpty() ? r : r.withDetails(details);
    }

    /** What /api/status answers: the whole report once the WAL is open, before that who the node is and why not. */
    public StatusReport statusReport(long sinceMillis) {
        NodeStatus s = status;
        if (s != null) {
            return s.report(sinceMillis);
        }
        Readiness r = readiness();
        return new StatusReport(new StatusReport.Node(config.nodeId(), config.durability().configName(),
                NodeStatus.meaning(config.durability()), r.ready(), r.reasons(), startedAt), clock.millis(),
                STATUS_INTERVAL.toMillis(), null, null, null, null, java.util.Map.of(), List.of());
    }

    public int grpcPort() {
        return grpc.port();
    }

    public int httpPort() {
        return http.port();
    }

    /** The OTLP/HTTP port; -1 when it is off ({@code otlp.http.port: 0}). */
    public int otlpHttpPort() {
        return otlpHttp == null ? -1 : otlpHttp.port();
    }

    /** The auth in force (its token file, for tests that reload it). */
    GrpcAuth auth() {
        return auth;
    }

    public Wal wal() {
        return wal;
    }

    /** Where events are forwarded, for the start-up line: a bootstrap, "embedded …", or "none". */
    public String kafka() {
        return replication == null ? "none" : replication.bootstrap();
    }

    /** Stops taking batches, lets in-flight ones finish, then closes the WAL (syncing everything accepted). */
    @Override
    public void close() throws IOException {
        ready = false;
        if (health != null) {
            health.close(); // NOT_SERVING from now: probes stop sending traffic here before the port closes
        }
        if (grpc != null) {
            grpc.shutdown(); // the calls in progress get their acks
        }
        if (otlpHttp != null) {
            otlpHttp.close(); // likewise the OTLP/HTTP requests the WAL holds
        }
        if (auth != null) {
            auth.close();
        }
        if (http != null) {
            http.close();
        }
        if (statusHistory != null) {
            statusHistory.close();
        }
        if (replication != null) {
            replication.close();
        }
        if (wal != null) {
            wal.close();
        }
        if (grpc != null) {
            grpc.close();
        }
        if (tls != null) {
            tls.close();
        }
    }

    /** Builds the registry the way the server expects it (holdfast_ prefix for its own meters, JVM meters). */
    public static PrometheusMeterRegistry newRegistry() {
        return Metrics.newRegistry();
    }
}
