package dev.holdfast.intake;

import dev.holdfast.forwarder.Forwarder;
import dev.holdfast.forwarder.ForwardLimit;
import dev.holdfast.forwarder.ForwarderConfig;
import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.status.ForwarderState;
import dev.holdfast.wal.Wal;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The intake's side of forwarding: starts the embedded broker (its own process, see {@link EmbeddedBroker}) when
 * asked to, then the forwarder, in the background,
 * so the intake is ready (and accepting into its WAL) whatever Kafka is doing. At {@code replicated} durability it
 * is the gate acknowledgements wait on.
 */
final class Replication implements BatchIntake.ReplicationGate, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    static final int EMBEDDED_PORT = 9092;

    private final IntakeConfig config;
    private final Wal wal;
    private final MeterRegistry registry;
    private final CompletableFuture<Forwarder> forwarder = new CompletableFuture<>();
    private volatile EmbeddedBroker embedded;
    private volatile Forwarder started;
    private volatile boolean closed;
    /** Why forwarding could not start; null while it starts or runs. */
    private volatile String failure;

    private final ForwardLimit limit;
    private final KafkaClientSecurity security;

    /**
     * @throws dev.holdfast.config.InvalidConfigException a file or environment variable of {@code forwarder.security}
     *                                                    missing or unreadable: found at start, not in the background
     */
    Replication(IntakeConfig config, Wal wal, MeterRegistry registry) {
        this.config = config;
        this.wal = wal;
        this.registry = registry;
        this.limit = config.forwarder().forwardLimit(config.nodeId()); // the forwarder tightens it once it knows more
        this.security = config.forwarder().security().resolve("forwarder.security", System::getenv);
    }

    /** What the forwarder can get into Kafka; the intake's door refuses larger events. */
    ForwardLimit limit() {
        return limit;
    }



    /** The directories forwarding writes under the data directory: the progress store and the embedded broker's log. */
    static List<Path> directories(IntakeConfig config) {
        List<Path> dirs = new ArrayList<>();
        if (config.forwarder().active()) {
            dirs.add(forwarderDir(config));
            if (config.forwarder().kafka().equals("embedded")) {
                dirs.add(embeddedKafkaDir(config));
            }
        }
        return dirs;
    }

    /** The forwarder's progress store and dead-letter file live under here. */
    static Path forwarderDir(IntakeConfig config) {
        return config.dataDir().resolve("forwarder");
    }

    private static Path embeddedKafkaDir(IntakeConfig config) {
        return config.dataDir().resolve("kafka");
    }

    void start() {
        Thread t = new Thread(this::startBlocking, "forwarder-start");
        t.setDaemon(true);
        t.start();
    }

    private void startBlocking() {
        IntakeConfig.Forwarding f = config.forwarder();
        try {
            String bootstrap = f.kafka();
            if (bootstrap.equals("embedded")) {
                EmbeddedBroker broker = new EmbeddedBroker(embeddedKafkaDir(config), "127.0.0.1", EMBEDDED_PORT,
                        EmbeddedBroker.jvmArgs(System.getenv(EmbeddedBroker.JAVA_OPTS_ENV)));
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    embedded = broker;
                }
                bootstrap = broker.start(); // tries until the broker is up, or until close()
            }
            IntakeConfig.TopicSettings t = f.topicSettings();
            ForwarderConfig fc = new ForwarderConfig(bootstrap, f.topic(), config.nodeId(),
                    forwarderDir(config), f.maxInflightBytes(), f.backlogMinShare(), f.liveMaxLag(),
                    f.retention(), f.progressInterval(), f.producer(), f.deadLetterTopicName(),
                    new ForwarderConfig.TopicSettings(t.partitions(), t.replicationFactor(), t.minInsyncReplicas(),
                            (int) Math.min(Integer.MAX_VALUE, t.maxMessageBytes())), f.valueEncoding(), security,
                    otlpTopics(config.otlp()));
            Forwarder fw = new Forwarder(fc, wal, registry, Clock.systemUTC(), limit);
            synchronized (this) {
                if (closed) {
                    return;
                }
                started = fw.start();
            }
            forwarder.complete(fw);
        } catch (InterruptedException e) {
            forwarder.completeExceptionally(new IllegalStateException("the intake closed before forwarding started"));
        } catch (Exception e) {
            log.error("forwarding could not start; the intake keeps accepting into its WAL: {}", e.toString());
            failure = e.toString();
            forwarder.completeExceptionally(e);
        }
    }

    static dev.holdfast.forwarder.OtlpTopics otlpTopics(IntakeConfig.Otlp o) {
        return dev.holdfast.forwarder.OtlpTopics.of(o.topics().logs(), o.topics().spans(), o.topics().metrics(),
                o.encoding());
    }

    /** Bootstrap servers in use, once known. */
    String bootstrap() {
        EmbeddedBroker k = embedded;
        return k != null ? "embedded 127.0.0.1:" + EMBEDDED_PORT : config.forwarder().kafka();
    }

    /** Where forwarding stands, for the status page. */
    ForwarderState state() {
        Forwarder f = started;
        String where = "topic " + config.forwarder().topic() + " on " + bootstrap();
        if (closed) {
            return new ForwarderState("stopped", "forwarder not running: the intake is closing", null);
        }
        if (f != null) {
            return new ForwarderState("running", "forwarding to " + where, f.circuitState().name());
        }
        String why = failure;
        if (why != null) {
            return new ForwarderState("failed", "forwarder not running: it could not start (" + why
                    + "); the WAL keeps every event until a restart forwards it", null);
        }
        return new ForwarderState("starting", "forwarder not running yet: waiting for Kafka (" + where
                + "); the WAL keeps every event meanwhile", null);
    }

    @Override
    public CompletableFuture<Void> confirmed(long walIndex) {
        return forwarder.thenCompose(f -> f.whenConfirmed(walIndex));
    }

    @Override
    public CompletableFuture<Void> confirmedThrough(long walIndex) {
        return forwarder.thenCompose(f -> f.whenConfirmedThrough(walIndex));
    }

    /** Closes the forwarder (saving progress) before the broker; the WAL is closed by the caller afterwards. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        Forwarder f = started;
        if (f != null) {
            f.close();
        }
        EmbeddedBroker k = embedded;
        if (k != null) {
            k.close();
        }
    }
}
