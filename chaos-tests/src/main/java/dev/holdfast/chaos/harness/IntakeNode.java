package dev.holdfast.chaos.harness;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.config.ByteSizes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One intake node (gRPC intake, WAL, forwarder to Kafka) as its own process, on fixed ports and its own data
 * directory so that a restart after a kill comes back where agents expect it, with everything it had persisted.
 */
public final class IntakeNode implements AutoCloseable {
    /** WAL settings for a small test node; a scenario may override any of them. */
    public static final Map<String, String> SMALL_WAL = Map.of("blockSize", "1MiB", "rollCycle", "FIVE_MINUTELY",
            "minFreeBytes", "64MiB", "maxBytes", "4GiB");
    private static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC");

    private final ChaosHome home;
    private final String id;
    private final Path dir;
    private final Path dataDir;
    private final int grpcPort;
    private final int httpPort;
    private final Path config;
    private final MetricsEndpoint http;
    private ChildProcess process;
    private int starts;

    public IntakeNode(ChaosHome home, String id, Path dir, Path dataDir, String kafkaBootstrap, String topic,
                      Map<String, String> walSettings) throws IOException {
        this(home, id, dir, dataDir, kafkaBootstrap, topic, walSettings, "fsync");
    }

    /** @param durability {@code written}, {@code fsync} or {@code replicated} */
    public IntakeNode(ChaosHome home, String id, Path dir, Path dataDir, String kafkaBootstrap, String topic,
                      Map<String, String> walSettings, String durability) throws IOException {
        this.home = home;
        this.id = id;
        this.dir = dir;
        this.dataDir = dataDir;
        this.grpcPort = FreePorts.next();
        this.httpPort = FreePorts.next();
        this.http = new MetricsEndpoint(httpPort);
        this.config = dir.resolve(id + ".yaml");
        Files.createDirectories(dir);
        StringBuilder wal = new StringBuilder();
        walSettings.forEach((k, v) -> wal.append("  ").append(k).append(": ").append(v).append('\n'));
        // a batch must fit one WAL record, a quarter of a block (the intake refuses to start otherwise)
        long blockSize = ByteSizes.parse(walSettings.getOrDefault("blockSize", "64MiB")).orElseThrow();
        long maxBatch = Math.min(4L << 20, blockSize / 4 - (16 << 10));
        Files.writeString(config, "nodeId: " + id + "\n"
                + "dataDir: " + dataDir + "\n"
                + "durability: " + durability + "\n"
                + "grpc: {host: 127.0.0.1, port: " + grpcPort + "}\n"
                + "http: {host: 127.0.0.1, port: " + httpPort + "}\n"
                + "otlp: {http: {port: 0}}\n"
                + "limits: {maxBatchBytes: " + maxBatch + "}\n"
                + "wal:\n" + wal
                + "forwarder:\n  enabled: true\n  kafka: " + kafkaBootstrap + "\n  topic: " + topic + "\n"
                + "  retention: 1h\n");
    }

    public String id() {
        return id;
    }

    public int grpcPort() {
        return grpcPort;
    }

    public String address() {
        return "127.0.0.1:" + grpcPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path log() {
        return dir.resolve(id + ".log");
    }

    /** Starts the process and waits for /readyz; returns the milliseconds from spawn to ready. */
    public long start() throws IOException, InterruptedException {
        return start(DEFAULT_JVM_OPTIONS, List.of());
    }

    /**
     * Starts the process with these JVM options, its command line prefixed by {@code wrapper} (e.g. {@code prlimit
     * --nofile=N --}, which execs the JVM: the pid stays the intake's), and waits for /readyz.
     */
    public long start(List<String> jvmOptions, List<String> wrapper) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        spawn(jvmOptions, wrapper);
        awaitReady();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Starts the process without waiting for it ({@link #awaitReady()} does): nodes that start together. */
    public void spawn() throws IOException {
        spawn(DEFAULT_JVM_OPTIONS, List.of());
    }

    private void spawn(List<String> jvmOptions, List<String> wrapper) throws IOException {
        if (process != null && process.alive()) {
            throw new IllegalStateException(id + " is already running");
        }
        starts++;
        List<String> command = new java.util.ArrayList<>(wrapper);
        command.addAll(home.command(jvmOptions, List.of("intake", "--config", config.toString())));
        process = ChildProcess.start(id, command, log(), Map.of());
    }

    public void kill() throws InterruptedException {
        process.kill();
    }

    public void freeze() throws IOException, InterruptedException {
        process.freeze();
    }

    public void thaw() throws InterruptedException {
        process.thaw();
    }

    public boolean alive() {
        return process != null && process.alive();
    }

    public long pid() {
        return process.pid();
    }

    public int httpPort() {
        return httpPort;
    }

    public int starts() {
        return starts;
    }

    /** Waits for the spawned process to answer /readyz, up to 60 s. */
    public void awaitReady() throws IOException, InterruptedException {
        awaitReady(Duration.ofSeconds(60));
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new IOException("intake " + id + " exited during start-up; its log:\n" + process.logTail(4000));
            }
            if (status("/readyz") == 200) {
                return;
            }
            Thread.sleep(20);
        }
        throw new IOException("intake " + id + " not ready within " + timeout + "; its log:\n" + process.logTail(4000));
    }

    /** HTTP status of a GET, or -1 when nothing answers. */
    public int status(String path) throws InterruptedException {
        return http.status(path);
    }

    /** Status and body of a GET, e.g. "200 {\"status\":\"ready\"}" from /readyz; "-1 …" when nothing answers. */
    public String get(String path) throws InterruptedException {
        return http.get(path);
    }

    /**
     * Waits until the forwarder has every record of the WAL confirmed by Kafka (lag 0); returns the last lag seen (NaN
     * when unreadable).
     */
    public double awaitForwarded(long timeoutMillis) throws InterruptedException {
        return awaitLag(0, timeoutMillis);
    }

    /**
     * Waits until the forwarder's lag (WAL records not yet confirmed by Kafka) is at most {@code settled}, the margin
     * live load keeps in flight; returns the last lag seen (NaN when unreadable).
     */
    public double awaitLag(double settled, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        double lag = metric("holdfast_forwarder_lag_records");
        while (!(lag <= settled) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            lag = metric("holdfast_forwarder_lag_records");
        }
        return lag;
    }

    /** Sum of every sample of a Prometheus metric family (all label sets), or NaN when unreachable. */
    public double metric(String name) throws InterruptedException {
        return http.metric(name);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            process.close();
        }
    }
}
