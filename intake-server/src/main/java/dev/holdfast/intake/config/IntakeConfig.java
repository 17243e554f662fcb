package dev.holdfast.intake.config;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.config.LocalHost;
import dev.holdfast.config.LogSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The whole configuration of one intake server, loaded from YAML ({@link #load(Path)}) and then
 * adjusted by command-line {@link Overrides}.
 *
 * <p>Every instance is valid: the canonical constructor runs {@link IntakeConfigValidator} and throws
 * {@link InvalidConfigException} listing every problem, so code that receives an {@code IntakeConfig}
 * never re-checks ranges. The nested section records are plain values; only the whole is validated,
 * because several rules relate fields of different sections.
 */
public record IntakeConfig(
        String nodeId,
        Path dataDir,
        Durability durability,
        Endpoint grpc,
        Endpoint http,
        Limits limits,
        Wal wal,
        Forwarding forwarder,
        Tls tls,
        Auth auth,
        Otlp otlp,
        LogSettings log) {

    /**
     * Without {@code tls} and {@code auth} sections: plaintext on loopback, no authentication (tests, embedded use;
     * callers that predate them keep compiling).
     */
    public IntakeConfig(String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http,
                        Limits limits, Wal wal, Forwarding forwarder) {
        this(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, Tls.OFF, Auth.NONE);
    }

    /** Without an {@code auth} section: no authentication. */
    public IntakeConfig(String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http,
                        Limits limits, Wal wal, Forwarding forwarder, Tls tls) {
        this(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, tls, Auth.NONE);
    }

    /**
     * Without an {@code otlp} section: OTLP/gRPC on the gRPC port as always, but no OTLP/HTTP listener (embedded and
     * test intakes, several to a machine, must not all claim port 4318).
     */
    public IntakeConfig(String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http,
                        Limits limits, Wal wal, Forwarding forwarder, Tls tls, Auth auth) {
        this(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, tls, auth, Otlp.DEFAULTS.withHttpPort(0));
    }

    /** Without a {@code log} section: text at INFO, unless the command line says otherwise. */
    public IntakeConfig(String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http,
                        Limits limits, Wal wal, Forwarding forwarder, Tls tls, Auth auth, Otlp otlp) {
        this(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, tls, auth, otlp, LogSettings.DEFAULTS);
    }

    /**
     * OTLP: its HTTP port (OTLP/gRPC shares the gRPC port), the Kafka topics and encoding the forwarder writes OTLP
     * data with, and the shedding priority of each signal.
     *
     * @param encoding {@code otlp_proto} or {@code otlp_json}, as the OpenTelemetry Collector's Kafka receiver names
     *                 them
     */
    public record Otlp(Http http, Topics topics, String encoding, dev.holdfast.intake.otlp.OtlpPriorities priority) {
        public static final Otlp DEFAULTS = new Otlp(new Http(4318), new Topics("holdfast.otlp.logs",
                "holdfast.otlp.spans", "holdfast.otlp.metrics"), "otlp_proto",
                dev.holdfast.intake.otlp.OtlpPriorities.DEFAULTS);

        /** @param port OTLP/HTTP on the gRPC listener's host and TLS; 0 = off */
        public record Http(int port) {
        }

        public record Topics(String logs, String spans, String metrics) {
            public Topics {
                Objects.requireNonNull(logs, "otlp.topics.logs");
                Objects.requireNonNull(spans, "otlp.topics.spans");
                Objects.requireNonNull(metrics, "otlp.topics.metrics");
            }
        }

        public Otlp {
            Objects.requireNonNull(http, "otlp.http");
            Objects.requireNonNull(topics, "otlp.topics");
            Objects.requireNonNull(encoding, "otlp.encoding");
            Objects.requireNonNull(priority, "otlp.priority");
        }

        public int httpPort() {
            return http.port();
        }

        public Otlp withHttpPort(int port) {
            return new Otlp(new Http(port), topics, encoding, priority);
        }
    }

    /**
     * A listening address; port 0 asks the OS for a free port (tests, side-by-side instances). In a draft, a
     * {@code null} host means "not set": 127.0.0.1 in plaintext, all interfaces with TLS or {@code tls.allowInsecure}.
     */
    public record Endpoint(String host, int port) {}

    /**
     * TLS on the listeners.
     *
     * @param cert           PEM certificate chain, leaf first; {@code null} = no TLS
     * @param key            its PEM PKCS#8 private key
     * @param clientCa       PEM CA bundle; given, clients must present a certificate it signed (mutual TLS)
     * @param clientAuth     with a client CA: {@code REQUIRE} a client certificate, or accept clients without one
     *                       ({@code OPTIONAL}, for token-only clients) while still checking any one presented
     * @param http           TLS on the HTTP metrics/health port too (same certificate and client CA)
     * @param allowInsecure  allow a plaintext listener on a non-loopback address
     * @param reloadInterval how often the files are checked for new content
     */
    public record Tls(Path cert, Path key, Path clientCa, ClientAuth clientAuth, boolean http, boolean allowInsecure,
                      Duration reloadInterval) {
        /** No TLS; plaintext listeners only on loopback. */
        public static final Tls OFF = new Tls(null, null, null, ClientAuth.REQUIRE, false, false, Duration.ofSeconds(2));

        public enum ClientAuth { REQUIRE, OPTIONAL }

        public boolean enabled() {
            return cert != null;
        }

        /** Whether the HTTP port speaks TLS. */
        public boolean onHttp() {
            return enabled() && http;
        }

        public dev.holdfast.tls.TlsFiles files() {
            return new dev.holdfast.tls.TlsFiles(cert, key, clientCa);
        }
    }

    /**
     * Per-request and global caps that protect the heap from oversized or too many batches.
     *
     * @param maxEventBytes the largest event accepted; 0 = as large as the forwarder can get into Kafka (with
     *                      forwarding off: as large as a batch). Set above what Kafka would take, it is refused at
     *                      start: the intake must not acknowledge what it can never forward.
     */
    public record Limits(long maxBatchBytes, int maxEventsPerBatch, int maxAgentIdBytes, long maxInflightBytes,
                         long maxEventBytes, Connections connections) {
        /** With the default connection limits. */
        public Limits(long maxBatchBytes, int maxEventsPerBatch, int maxAgentIdBytes, long maxInflightBytes,
                      long maxEventBytes) {
            this(maxBatchBytes, maxEventsPerBatch, maxAgentIdBytes, maxInflightBytes, maxEventBytes,
                    Connections.DEFAULTS);
        }

        /**
         * The largest gRPC message the transport takes: above {@code maxBatchBytes} (twice it, plus 1 MiB) so that
         * an oversize batch is read and answered INVALID with a precise message rather than reset unread.
         */
        public long messageBytes() {
            return messageBytes(maxBatchBytes);
        }

        /** {@link #messageBytes()} for a given {@code maxBatchBytes}. */
        public static long messageBytes(long maxBatchBytes) {
            long slack = 1 << 20;
            return Math.min(Integer.MAX_VALUE - slack, maxBatchBytes * 2) + slack;
        }
    }

    /**
     * What connections may hold, on the gRPC and the HTTP port alike (each port counts its own).
     *
     * @param max            open connections in total; more are closed as soon as they are accepted
     * @param maxPerAddress  open connections from one remote address (one host cannot take them all)
     * @param fdReserve      file descriptors kept free for the WAL, checkpoints and {@code /healthz}: new gRPC
     *                       connections are refused while fewer are free, HTTP ones only below half of it
     * @param idleTimeout    a connection with no call in progress this long is closed (gRPC: GOAWAY)
     * @param requestTimeout an HTTP request must arrive whole within this (slowloris)
     * @param partialMessageBytes      bytes of gRPC messages still being received that one connection may hold;
     *                                 a connection over it is closed (at least {@link Limits#messageBytes()})
     * @param partialMessageBytesTotal the same over all connections; over it the connection holding the most is
     *                                 closed
     */
    public record Connections(int max, int maxPerAddress, int fdReserve, Duration idleTimeout,
                              Duration requestTimeout, long partialMessageBytes, long partialMessageBytesTotal) {
        public static final Connections DEFAULTS =
                new Connections(4096, 512, 128, Duration.ofMinutes(5), Duration.ofSeconds(10), 16L << 20, 96L << 20);

        /** With the default budgets for partly received messages. */
        public Connections(int max, int maxPerAddress, int fdReserve, Duration idleTimeout, Duration requestTimeout) {
            this(max, maxPerAddress, fdReserve, idleTimeout, requestTimeout, DEFAULTS.partialMessageBytes,
                    DEFAULTS.partialMessageBytesTotal);
        }
    }

    /**
     * Write-ahead-log settings.
     *
     * @param maxBytes            cap on the WAL directory's size
     * @param minFreeBytes        disk space always left free on the WAL's file system
     * @param bulkWatermark       fraction of {@code maxBytes} from which bulk batches are refused
     * @param normalWatermark     fraction of {@code maxBytes} from which all batches are refused
     * @param retryAfter          back-off suggested to clients when a batch is refused for space
     * @param groupCommitMaxDelay longest a batch waits for others to share its fsync
     * @param groupCommitMaxBytes bytes after which a group commit is forced without waiting
     * @param rollCycle           how often the WAL starts a new file
     * @param blockSize           Chronicle Queue's memory-mapping chunk size
     */
    public record Wal(
            long maxBytes,
            long minFreeBytes,
            double bulkWatermark,
            double normalWatermark,
            Duration retryAfter,
            Duration groupCommitMaxDelay,
            long groupCommitMaxBytes,
            RollCycle rollCycle,
            long blockSize) {}

    /**
     * Replication of the WAL to Kafka.
     *
     * @param enabled          run the forwarder inside the intake
     * @param kafka            {@code embedded} (a single-node broker in this process, data under dataDir/kafka),
     *                         {@code none} (accept into the WAL only), or bootstrap servers {@code host:port,...}
     * @param topic            destination topic
     * @param maxInflightBytes payload sent and not yet confirmed, per lane
     * @param backlogMinShare  share of that capacity the backlog lane always gets
     * @param liveMaxLag       a live lane further behind jumps to the head and leaves the gap to the backlog lane
     * @param retention        a fully forwarded WAL segment is deleted once older than this
     * @param progressInterval how often confirmed progress is saved to RocksDB
     * @param producer         Kafka producer properties, passed as given (they override Holdfast's defaults)
     * @param deadLetterTopic  where events Kafka refuses for good go; empty = {@code <topic>.dlq}
     * @param encoding         record values: {@code protobuf} (the agent's bytes) or {@code json}
     * @param topicSettings    how the forwarder creates its topics when they are missing
     * @param security         TLS and SASL towards Kafka (for the forwarder and {@code wal replay}): files and names,
     *                         the password itself is read at start
     */
    public record Forwarding(boolean enabled, String kafka, String topic, long maxInflightBytes,
                             double backlogMinShare, Duration liveMaxLag, Duration retention,
                             Duration progressInterval, java.util.Map<String, String> producer,
                             String deadLetterTopic, String encoding, TopicSettings topicSettings,
                             dev.holdfast.forwarder.kafka.KafkaSecurity security) {
        public Forwarding {
            producer = java.util.Map.copyOf(producer);
            Objects.requireNonNull(security, "forwarder.security");
        }

        /** A copy with another bootstrap and topic (command-line overrides). */
        public Forwarding withKafka(String newKafka, String newTopic) {
            return new Forwarding(enabled, newKafka, newTopic, maxInflightBytes, backlogMinShare, liveMaxLag,
                    retention, progressInterval, producer, deadLetterTopic, encoding, topicSettings, security);
        }

        /** The record value encoding; validated, so an unknown name never gets here. */
        public dev.holdfast.forwarder.ValueEncoding valueEncoding() {
            return dev.holdfast.forwarder.ValueEncoding.find(encoding).orElse(dev.holdfast.forwarder.ValueEncoding.PROTOBUF);
        }

        /**
         * The largest event this forwarding could get into Kafka, as configured: the intake's door and the start-up
         * check use it; the forwarder tightens it to the topic's real {@code max.message.bytes} once known.
         *
         * @throws IllegalArgumentException naming the key when {@code max.request.size} is not a number
         */
        public dev.holdfast.forwarder.ForwardLimit forwardLimit(String nodeId) {
            var limit = new dev.holdfast.forwarder.ForwardLimit(producer, nodeId, topic, valueEncoding());
            if (topicSettings.maxMessageBytes() > 0) {
                limit.topicMaxMessageBytes((int) Math.min(Integer.MAX_VALUE, topicSettings.maxMessageBytes()));
            }
            return limit;
        }

        /** The dead-letter topic's name, the default filled in. */
        public String deadLetterTopicName() {
            return deadLetterTopic.isEmpty() ? topic + ".dlq" : deadLetterTopic;
        }

        /** Whether a broker is to be used at all. */
        public boolean active() {
            return enabled && !kafka.equals("none");
        }
    }

    /**
     * How the forwarder creates a missing topic; 0 = default: replication factor min(3, brokers),
     * {@code min.insync.replicas} 2 when the replication factor is 3 or more (else 1), {@code max.message.bytes} the
     * broker's.
     */
    public record TopicSettings(int partitions, int replicationFactor, int minInsyncReplicas, long maxMessageBytes) {}

    /**
     * The Chronicle Queue roll cycles Holdfast supports; constant names match
     * {@code net.openhft.chronicle.queue.RollCycles}, so the WAL maps them with {@code valueOf(name())}
     * while this package stays free of Chronicle types.
     */
    public enum RollCycle {
        FIVE_MINUTELY, TEN_MINUTELY, TWENTY_MINUTELY, HALF_HOURLY, FAST_HOURLY,
        TWO_HOURLY, FOUR_HOURLY, SIX_HOURLY, FAST_DAILY
    }


    /**
     * Who may call the gRPC intake, and as which agents.
     *
     * @param require what a caller must present: {@code none} (anything, or nothing: a caller without credentials
     *                may send as any agent, as before), {@code certificate} (a verified client certificate),
     *                {@code token} (a bearer token from {@code tokens}) or {@code any} (either)
     * @param tokens  the token file (hashes, never the tokens; reloaded when it changes); null = no tokens
     * @param agents  identities that may send as agent ids other than their own (globs, {@code *} and {@code ?})
     * @param httpToken "sha256:&lt;hex&gt;" of the bearer token /metrics and /readyz ask of clients that are not on
     *                  loopback; empty = none asked
     */
    public record Auth(Require require, Path tokens, List<AgentRule> agents, String httpToken) {
        /** No authentication: the behaviour before the section existed. */
        public static final Auth NONE = new Auth(Require.NONE, null, List.of(), "");

        public Auth {
            Objects.requireNonNull(require, "require");
            Objects.requireNonNull(httpToken, "httpToken");
            agents = List.copyOf(agents);
        }

        /** Without a token for the HTTP port. */
        public Auth(Require require, Path tokens, List<AgentRule> agents) {
            this(require, tokens, agents, "");
        }

        /** Whether any caller is ever identified (a credential is required, or tokens can be presented). */
        public boolean active() {
            return require != Require.NONE || tokens != null;
        }

        public enum Require {
            NONE, CERTIFICATE, TOKEN, ANY;

            static String allowed() {
                return "none|certificate|token|any";
            }

            static Require parse(String s) {
                for (Require r : values()) {
                    if (r.name().equalsIgnoreCase(s)) {
                        return r;
                    }
                }
                return null;
            }
        }
    }

    /** {@code identity} (a certificate's CN or SAN, or a token's identity) may send as any agent id matching a glob. */
    public record AgentRule(String identity, List<String> agentIds) {
        public AgentRule {
            agentIds = List.copyOf(agentIds);
        }
    }

    public IntakeConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(grpc, "grpc");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(wal, "wal");
        Objects.requireNonNull(forwarder, "forwarder");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(otlp, "otlp");
        Objects.requireNonNull(log, "log");
        List<String> problems = IntakeConfigValidator.problems(nodeId, dataDir, durability, grpc, http, limits, wal,
                forwarder, tls);
        problems.addAll(IntakeConfigValidator.authProblems(auth, tls));
        problems.addAll(IntakeConfigValidator.otlpProblems(otlp, grpc, http, forwarder));
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
    }

    /** Everything at its default; {@code nodeId} is this host's name, {@code dataDir} follows {@code HOLDFAST_HOME}. */
    public static IntakeConfig defaults() {
        return defaults(System::getenv);
    }

    /**
     * The defaults with command-line overrides; unlike {@code defaults().withOverrides(o)}, listener hosts not set
     * follow the TLS flags (all interfaces with TLS or {@code --insecure}, else loopback).
     */
    public static IntakeConfig defaults(Overrides overrides) {
        return defaultDraft(System::getenv).build(overrides, List.of());
    }

    /** Reads a YAML file; fields it leaves out keep their defaults. */
    public static IntakeConfig load(Path yamlFile) {
        return load(yamlFile, Overrides.NONE);
    }

    /**
     * Reads a YAML file and applies overrides before validating, so a command-line flag can repair a
     * bad value in the file, and problems in both are reported together.
     */
    public static IntakeConfig load(Path yamlFile, Overrides overrides) {
        return load(yamlFile, overrides, System::getenv);
    }

    /** A copy without the forwarder: the intake accepts into its WAL only. */
    public IntakeConfig withoutForwarder() {
        Forwarding f = forwarder;
        return new IntakeConfig(nodeId, dataDir, durability, grpc, http, limits, wal,
                new Forwarding(false, f.kafka(), f.topic(), f.maxInflightBytes(), f.backlogMinShare(), f.liveMaxLag(),
                        f.retention(), f.progressInterval(), f.producer(), f.deadLetterTopic(), f.encoding(),
                        f.topicSettings(), f.security()), tls, auth, otlp, log);
    }

    /** A copy with the given overrides applied and validated. */
    public IntakeConfig withOverrides(Overrides overrides) {
        return ConfigDraft.of(this).build(overrides, List.of());
    }

    // Package-private seams: tests supply the environment instead of mutating the real one.

    static IntakeConfig defaults(Function<String, String> getenv) {
        return defaultDraft(getenv).build(Overrides.NONE, List.of());
    }

    static ConfigDraft defaultDraft(Function<String, String> getenv) {
        return new ConfigDraft(
                LocalHost.name(),
                defaultDataDir(getenv),
                Durability.FSYNC,
                // hosts not set: loopback unless TLS (or an explicit tls.allowInsecure) makes the network safe
                new Endpoint(null, 4317),
                new Endpoint(null, 8080),
                new Limits(4L << 20, 10_000, 256, 64L << 20, 0),
                new Wal(10L << 30, 512L << 20, 0.80, 0.90, Duration.ofSeconds(1), Duration.ofMillis(2),
                        8L << 20, RollCycle.FAST_HOURLY, 64L << 20),
                new Forwarding(true, "embedded", "holdfast.events", 8L << 20, 0.2, Duration.ofSeconds(2),
                        Duration.ofHours(1), Duration.ofMillis(50), java.util.Map.of(), "", "protobuf",
                        new TopicSettings(3, 0, 0, 0), dev.holdfast.forwarder.kafka.KafkaSecurity.PLAINTEXT),
                Tls.OFF, Auth.NONE, Otlp.DEFAULTS, LogSettings.DEFAULTS);
    }

    /** As {@link #load(Path, Overrides)}, with {@code ${NAME}} references (and the defaults) from {@code getenv}. */
    public static IntakeConfig load(Path yamlFile, Overrides overrides, Function<String, String> getenv) {
        IntakeConfigReader.Result read = IntakeConfigReader.read(yamlFile, defaultDraft(getenv), getenv);
        return read.draft().build(overrides, read.problems());
    }

    static Path defaultDataDir(Function<String, String> getenv) {
        String home = getenv.apply("HOLDFAST_HOME");
        return home == null || home.isBlank() ? Path.of("data") : Path.of(home, "data");
    }
}
