package dev.holdfast.broker;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An {@link EmbeddedKafka} broker in a separate OS process: the intake's embedded broker (its heap is not the
 * intake's), each member of a {@link KafkaCluster}, and the tests' brokers, which they SIGKILL and start again on
 * the same data directory and port, like a crashed and restarted broker.
 *
 * <p>The child JVM uses this JVM's java binary, class path and input arguments (so it gets the same flags as its
 * parent, then {@code jvmArgs}), writes stdout and stderr to {@link #log()}, and exits by itself if this JVM dies.
 */
public final class KafkaBrokerProcess implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int LOG_EXCERPT_CHARS = 20_000;

    private final Path dataDir;
    private final Path log;
    private final Map<String, String> extraProperties;
    private final String host;
    private final EmbeddedKafka.ClusterMember member;
    private final List<String> jvmArgs;
    private final List<EmbeddedKafka.Listener> listeners;
    private int port;
    private Process process;
    private String bootstrap;
    private Duration lastStartTime;

    /** A broker for {@code dataDir} on {@code port} (0: a free port, kept for every restart). Not started yet. */
    public KafkaBrokerProcess(Path dataDir, int port) {
        this(dataDir, port, Map.of());
    }

    public KafkaBrokerProcess(Path dataDir, int port, Map<String, String> extraProperties) {
        this(dataDir, "127.0.0.1", port, null, extraProperties, List.of());
    }

    /**
     * A broker on {@code host:port}, optionally a member of a multi-node cluster.
     *
     * @param member  node id, controller port, voters and cluster id; {@code null} for a single-node cluster
     * @param jvmArgs added after this JVM's input arguments, so they win over them (e.g. {@code -Xmx384m})
     */
    public KafkaBrokerProcess(Path dataDir, String host, int port, EmbeddedKafka.ClusterMember member,
                              Map<String, String> extraProperties, List<String> jvmArgs) {
        this(dataDir, host, port, member, extraProperties, jvmArgs, List.of());
    }

    /** As above, with client listeners besides the plaintext one (e.g. {@link SecureListeners#listeners()}). */
    public KafkaBrokerProcess(Path dataDir, String host, int port, EmbeddedKafka.ClusterMember member,
                              Map<String, String> extraProperties, List<String> jvmArgs,
                              List<EmbeddedKafka.Listener> listeners) {
        this.listeners = List.copyOf(listeners);
        this.dataDir = dataDir.toAbsolutePath();
        this.log = this.dataDir.resolveSibling(this.dataDir.getFileName() + ".log");
        this.host = host;
        this.port = port;
        this.member = member;
        this.extraProperties = Map.copyOf(extraProperties);
        this.jvmArgs = List.copyOf(jvmArgs);
    }

    /** Spawns the broker and waits until it accepts connections; its log is in the exception if it doesn't. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running: " + bootstrap);
        }
        Files.createDirectories(log.getParent());
        long logStart = Files.exists(log) ? Files.size(log) : 0; // restarts append; only this start's output counts
        long t0 = System.nanoTime();
        process = new ProcessBuilder(command())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        String ready = awaitReadyLine(logStart);
        lastStartTime = Duration.ofNanos(System.nanoTime() - t0);
        bootstrap = ready.substring(EmbeddedKafka.READY_PREFIX.length()).trim();
        // the first start may have picked a free port; restarts must come back on the same address
        port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    private List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        boolean ownCollector = jvmArgs.stream().anyMatch(KafkaBrokerProcess::selectsCollector);
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // a debugger agent would try to listen on the parent's debug port and stop the child from starting; and
            // a JVM given two collectors refuses to start, so the broker's own choice replaces the parent's
            if (!arg.startsWith("-agentlib:jdwp") && !(ownCollector && selectsCollector(arg))) {
                cmd.add(arg);
            }
        }
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(EmbeddedKafka.class.getName());
        cmd.addAll(List.of("--data", dataDir.toString(), "--host", host, "--port", String.valueOf(port),
                "--exit-with-pid", String.valueOf(ProcessHandle.current().pid())));
        if (member != null) {
            cmd.addAll(List.of("--node-id", String.valueOf(member.nodeId()),
                    "--controller-port", String.valueOf(member.controllerPort()),
                    "--voters", member.voters(), "--cluster-id", member.clusterId()));
        }
        extraProperties.forEach((k, v) -> cmd.addAll(List.of("--prop", k + "=" + v)));
        listeners.forEach(l -> cmd.addAll(List.of("--listener", l.toString())));
        return cmd;
    }

    /** {@code -XX:+UseSerialGC}, {@code -XX:+UseZGC} and the like. */
    static boolean selectsCollector(String arg) {
        return arg.matches("-XX:[+-]Use\\w*GC");
    }

    private String awaitReadyLine(long logStart) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            for (String line : logSince(logStart).split("\n")) {
                if (line.startsWith(EmbeddedKafka.READY_PREFIX)) {
                    return line;
                }
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String why = process.isAlive() ? "not ready within " + READY_TIMEOUT : "exited with " + process.exitValue();
                kill();
                throw new IOException("kafka broker on " + dataDir + " " + why + "; its log (" + log + "):\n"
                        + tail(logSince(logStart)));
            }
            Thread.sleep(20);
        }
    }

    private String logSince(long offset) throws IOException {
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(offset);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String tail(String text) {
        return text.length() <= LOG_EXCERPT_CHARS ? text : "…" + text.substring(text.length() - LOG_EXCERPT_CHARS);
    }

    /** {@code host:port} of the running (or last running) broker. */
    public synchronized String bootstrap() {
        if (bootstrap == null) {
            throw new IllegalStateException("never started");
        }
        return bootstrap;
    }

    /** How long the last {@link #start()} took, from spawning the JVM to the ready line. */
    public synchronized Duration lastStartTime() {
        return lastStartTime;
    }

    /** The child's stdout and stderr, all starts appended. */
    public Path log() {
        return log;
    }

    /** The process id of the running (or last running) broker; -1 before the first start. */
    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    public synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /**
     * Waits until the running (or last running) broker process exits, however it ends.
     *
     * @return its exit status
     */
    public int awaitExit() throws InterruptedException {
        Process p;
        synchronized (this) {
            if (process == null) {
                throw new IllegalStateException("never started");
            }
            p = process;
        }
        return p.waitFor(); // outside the lock: stop() and kill() must not wait behind this
    }

    /** SIGKILL: no shutdown hook, no flush; what a crash or the OOM killer does. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /**
     * SIGTERM, then waits for the shutdown; returns the exit status (143 after a SIGTERM, as for any JVM; the log
     * ends with {@link EmbeddedKafka#STOPPED_LINE} when the broker closed cleanly).
     */
    public synchronized int stop() throws InterruptedException {
        if (process == null) {
            throw new IllegalStateException("never started");
        }
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            kill();
            throw new IllegalStateException("kafka broker did not stop within " + STOP_TIMEOUT + " of SIGTERM; killed");
        }
        return process.exitValue();
    }

    /** Stops the broker if it still runs (SIGTERM), then starts it on the same data directory and port. */
    public synchronized void restart() throws IOException, InterruptedException {
        if (alive()) {
            stop();
        }
        start();
    }

    /** Kills the broker if it still runs; a test is over, a clean shutdown would only cost time. */
    @Override
    public synchronized void close() throws InterruptedException {
        if (alive()) {
            kill();
        }
    }
}
