package dev.holdfast.intake;

import dev.holdfast.broker.KafkaBrokerProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The intake's embedded Kafka broker ({@code forwarder.kafka: embedded}), run as a child process and kept running.
 *
 * <p>Why a process of its own: a broker's live set reached 358 MiB under {@code bench ingest}, which would otherwise
 * size the intake's heap, and a broker that runs out of memory or crashes must not take the intake (and its
 * acknowledgements) down with it. The intake does not wait for it: forwarding waits out a broker that is down as it
 * waits out any Kafka outage, and the WAL keeps accepting.
 *
 * <p>Supervision: {@link #start()} tries until the broker is up (a broker left by a killed intake may still hold the
 * port and log directory for up to 10 s while it shuts itself down), and a broker that exits while the intake runs
 * is started again, both after a jittered, doubling delay. The child exits by itself if the intake dies, even by
 * SIGKILL ({@code --exit-with-pid}). Its stdout and stderr go to {@code kafka.log} beside its data directory.
 */
final class EmbeddedBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);
    /**
     * The broker's JVM flags, after the intake's own (which it inherits): a heap of its own, sized for a broker; the
     * serial collector and the C1 compiler only, which took a third less CPU for the broker at the intake's full
     * load on 2 cores, forwarding no fewer events (docs/BENCHMARKS.md, "Memory at full load").
     */
    static final List<String> JVM_ARGS = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    /** Environment variable with more flags for the broker's JVM, after {@link #JVM_ARGS} (e.g. a larger heap). */
    static final String JAVA_OPTS_ENV = "HOLDFAST_KAFKA_JAVA_OPTS";
    static final Duration FIRST_RETRY = Duration.ofMillis(500);
    static final Duration MAX_RETRY = Duration.ofSeconds(30);

    private final KafkaBrokerProcess process;
    private final Path dataDir;
    private volatile boolean closed;
    private volatile String bootstrap;
    private Thread watcher;

    /** @param extraJvmArgs flags for the broker's JVM after {@link #JVM_ARGS}, e.g. from {@link #JAVA_OPTS_ENV} */
    EmbeddedBroker(Path dataDir, String host, int port, List<String> extraJvmArgs) {
        this.dataDir = dataDir;
        List<String> jvm = new java.util.ArrayList<>(JVM_ARGS);
        jvm.addAll(extraJvmArgs);
        this.process = new KafkaBrokerProcess(dataDir, host, port, null, Map.of(), jvm);
    }

    /** The flags in {@code value} (of {@link #JAVA_OPTS_ENV}), split on whitespace; none for null or blank. */
    static List<String> jvmArgs(String value) {
        return value == null || value.isBlank() ? List.of() : List.of(value.trim().split("\\s+"));
    }

    /**
     * Starts the broker, trying again until it is up or {@link #close()} is called, then watches it.
     *
     * @return its bootstrap address
     * @throws InterruptedException closed (or the thread interrupted) before the broker came up
     */
    String start() throws InterruptedException {
        runUntilUp("start");
        watcher = new Thread(this::restartWhenItExits, "kafka-embedded-watch");
        watcher.setDaemon(true);
        watcher.start();
        return bootstrap;
    }

    private void runUntilUp(String what) throws InterruptedException {
        Duration delay = FIRST_RETRY;
        while (true) {
            if (closed) {
                throw new InterruptedException("closed");
            }
            try {
                synchronized (this) {
                    if (closed) {
                        throw new InterruptedException("closed");
                    }
                    process.start();
                }
                bootstrap = process.bootstrap();
                log.info("embedded Kafka broker (pid {}) ready at {}", process.pid(), bootstrap);
                return;
            } catch (IOException e) {
                // one line here; the whole of it is in kafka.log
                log.warn("embedded Kafka broker did not {}: {}; trying again in {} ms; its log: {}", what,
                        reason(e.getMessage()), delay.toMillis(), process.log());
            }
            Thread.sleep(jittered(delay));
            delay = delay.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : delay.multipliedBy(2);
        }
    }

    private void restartWhenItExits() {
        try {
            while (!closed) {
                int status = process.awaitExit();
                if (closed) {
                    return;
                }
                log.warn("embedded Kafka broker (data {}) exited with status {}; starting it again; its log: {}",
                        dataDir, status, process.log());
                Thread.sleep(jittered(FIRST_RETRY));
                runUntilUp("restart");
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Half to all of {@code d}: brokers of several intakes restarted together do not retry in step. */
    private static long jittered(Duration d) {
        long ms = Math.max(1, d.toMillis());
        return ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1);
    }

    /**
     * The broker's first exception message in {@code failure} (which ends with its log), e.g. "Socket server failed
     * to bind to 127.0.0.1:9092: Address already in use.", else the failure's first line.
     */
    static String reason(String failure) {
        if (failure == null) {
            return "no message";
        }
        String[] lines = failure.split("\n");
        for (String line : lines) {
            int at = line.indexOf("Exception: ");
            if (at > 0 && !line.startsWith("\t")) {
                return line.substring(at + "Exception: ".length()).trim();
            }
        }
        return lines[0];
    }

    String bootstrap() {
        return bootstrap;
    }

    long pid() {
        return process.pid();
    }

    /** Stops the broker (SIGTERM, a clean shutdown); it is killed if it takes longer than the process allows. */
    @Override
    public void close() {
        closed = true;
        Thread w = watcher;
        if (w != null) {
            w.interrupt();
        }
        synchronized (this) {
            if (!process.alive()) {
                return;
            }
            try {
                process.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IllegalStateException e) {
                log.warn("embedded Kafka broker: {}", e.getMessage());
            }
        }
    }
}
