package dev.holdfast.broker;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * A real Kafka node (KRaft, broker and controller in one node) inside the current JVM: by default a single-node
 * cluster of its own, or, given a {@link ClusterMember}, one member of a multi-node cluster with a static voter set
 * (see {@link KafkaCluster}, which runs each member in its own process).
 *
 * <p>Lifecycle is explicit: the constructor only records the settings, {@link #start()} formats the data directory
 * on its first use and starts the broker, {@link #close()} shuts it down. The data directory is Kafka's log
 * directory; its {@code meta.properties} holds the cluster id, so a restart on the same directory reuses the same
 * log instead of formatting a new cluster.
 *
 * <p>{@link #main} runs it as its own process (see {@link KafkaBrokerProcess}), printing {@link #READY_PREFIX}
 * followed by the bootstrap address once the broker accepts connections.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** Start of the one stdout line that says the broker accepts connections; scripts and tests wait for it. */
    public static final String READY_PREFIX = "kafka ready bootstrap=";
    /**
     * The stdout line after a clean shutdown. The exit status can't say it: a JVM stopped by SIGTERM exits with 143
     * even when its shutdown hooks completed.
     */
    public static final String STOPPED_LINE = "kafka stopped";

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int SINGLE_NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final String host;
    private final int requestedPort;
    private final Map<String, String> extraProperties;
    private final ClusterMember member;
    private final List<Listener> listeners;

    private KafkaRaftServer server;
    private int port;
    private String clusterId;

    /** A broker with the defaults of {@link #brokerProperties}; {@code port} 0 picks a free port at start. */
    public EmbeddedKafka(Path dataDir, String host, int port) {
        this(dataDir, host, port, Map.of());
    }

    /**
     * @param host            the address the broker binds and advertises: clients must be able to reach it, so not
     *                        a wildcard address
     * @param port            the client port; 0 picks a free port at each start
     * @param extraProperties broker properties that override the defaults (e.g. {@code num.partitions})
     */
    public EmbeddedKafka(Path dataDir, String host, int port, Map<String, String> extraProperties) {
        this(dataDir, host, port, null, extraProperties);
    }

    /**
     * One member of a multi-node cluster: {@code member} says which node this is and who the voters are.
     *
     * @param port   the client port; must be fixed (not 0) for a cluster member, so restarts come back on it
     * @param member node id, controller port, voters and cluster id; {@code null} for a single-node cluster
     */
    public EmbeddedKafka(Path dataDir, String host, int port, ClusterMember member, Map<String, String> extraProperties) {
        this(dataDir, host, port, member, extraProperties, List.of());
    }

    /**
     * As above, with client listeners besides the plaintext one (which stays the broker's {@link #bootstrap()} and
     * inter-broker listener): e.g. SSL and SASL_SSL for the security tests, see {@link SecureListeners}.
     */
    public EmbeddedKafka(Path dataDir, String host, int port, ClusterMember member, Map<String, String> extraProperties,
                         List<Listener> listeners) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        if (member != null && port == 0) {
            throw new IllegalArgumentException("a cluster member needs a fixed client port");
        }
        this.dataDir = dataDir.toAbsolutePath();
        this.host = host;
        this.requestedPort = port;
        this.member = member;
        this.extraProperties = Map.copyOf(extraProperties);
        this.listeners = List.copyOf(listeners);
    }

    /**
     * An additional client listener named after its security protocol ({@code SSL}, {@code SASL_SSL} or
     * {@code SASL_PLAINTEXT}) on a fixed port; its TLS and SASL settings are {@code listener.name.<name>.*}
     * broker properties.
     */
    public record Listener(String protocol, int port) {
        public Listener {
            if (!List.of("SSL", "SASL_SSL", "SASL_PLAINTEXT").contains(protocol)) {
                throw new IllegalArgumentException("listener protocol must be SSL, SASL_SSL or SASL_PLAINTEXT, was "
                        + protocol);
            }
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("listener port must be 1..65535, was " + port);
            }
        }

        /** {@code PROTOCOL:PORT}, as {@code --listener} takes it. */
        public static Listener parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--listener wants PROTOCOL:PORT, got " + text);
            }
            return new Listener(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        }

        @Override
        public String toString() {
            return protocol + ":" + port;
        }
    }

    /**
     * Node {@code nodeId} of a combined-mode KRaft cluster with a static voter set.
     *
     * @param controllerPort this node's controller port; must be the one the voter list gives for {@code nodeId}
     * @param voters         {@code id@host:port,...}, the same string on every member
     * @param clusterId      the cluster id every member's log directory is formatted with
     */
    public record ClusterMember(int nodeId, int controllerPort, String voters, String clusterId) {
        public ClusterMember {
            if (nodeId < 0) {
                throw new IllegalArgumentException("node id must be >= 0, was " + nodeId);
            }
            if (controllerPort <= 0 || controllerPort > 65535) {
                throw new IllegalArgumentException("controller port must be 1..65535, was " + controllerPort);
            }
            if (!voters.contains(nodeId + "@")) {
                throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters);
            }
            Uuid.fromString(clusterId); // a malformed id would only fail later, inside the formatter
        }

        /** How many voters (= nodes, in combined mode) the cluster has. */
        public int size() {
            return voters.split(",").length;
        }

        /** The voter string for nodes 1..N on {@code host} with the given controller ports. */
        public static String voters(String host, List<Integer> controllerPorts) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < controllerPorts.size(); i++) {
                b.append(i == 0 ? "" : ",").append(i + 1).append('@').append(host).append(':').append(controllerPorts.get(i));
            }
            return b.toString();
        }
    }

    /**
     * Formats the data directory if it has never been formatted, starts the broker, and returns once a client can
     * describe the cluster through the bootstrap address.
     */
    public synchronized void start() throws IOException, InterruptedException {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        long t0 = System.nanoTime();
        // A cluster member's ports are fixed by its cluster: the others know its controller port from the voters.
        // Otherwise the controller port, and the client port when 0, are picked together (FreePorts says why).
        int controllerPort;
        if (member != null) {
            port = requestedPort;
            controllerPort = member.controllerPort();
        } else {
            List<Integer> taken = new ArrayList<>(listeners.stream().map(Listener::port).toList());
            taken.add(requestedPort);
            List<Integer> free = FreePorts.distinct(host, 2, taken);
            controllerPort = free.get(0);
            port = requestedPort != 0 ? requestedPort : free.get(1);
        }
        Map<String, String> props = member != null
                ? brokerProperties(dataDir, host, port, member, extraProperties)
                : brokerProperties(dataDir, host, port, controllerPort, extraProperties);
        props = withListeners(props, host, listeners);
        KafkaConfig config = new KafkaConfig(props, false);

        Files.createDirectories(dataDir);
        boolean formatted = formatIfNew(config);
        KafkaRaftServer s = new KafkaRaftServer(config, Time.SYSTEM);
        server = s;
        try {
            s.startup();
            awaitAcceptingClients();
        } catch (RuntimeException | IOException | InterruptedException e) {
            close();
            throw e;
        }
        log.info("kafka broker started in {} ms: bootstrap={} controller={}:{} cluster={} dir={}{}",
                (System.nanoTime() - t0) / 1_000_000, bootstrap(), host, controllerPort, clusterId, dataDir,
                formatted ? " (formatted now)" : "");
    }

    /** {@code host:port} for {@code bootstrap.servers}; valid after {@link #start()}. */
    public String bootstrap() {
        if (port == 0) {
            throw new IllegalStateException("not started");
        }
        return host + ":" + port;
    }

    /** The client port the broker listens on; valid after {@link #start()}. */
    public int port() {
        return port;
    }

    /** The cluster id recorded in the data directory; valid after {@link #start()}. */
    public String clusterId() {
        return clusterId;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down (flushes and closes the log, releases the ports); a no-op when not running. */
    @Override
    public synchronized void close() {
        KafkaRaftServer s = server;
        server = null;
        if (s != null) {
            s.shutdown();
            s.awaitShutdown();
        }
    }

    /**
     * The broker configuration of a single-node cluster: Kafka's defaults, adjusted for one node that shares a small
     * machine with an intake, then {@code extra} on top.
     */
    static Map<String, String> brokerProperties(Path dataDir, String host, int port, int controllerPort,
                                                Map<String, String> extra) {
        // A static voter set (rather than a dynamic quorum) records no controller address in the log, so the
        // controller port may differ from one start to the next.
        return brokerProperties(dataDir, host, port, SINGLE_NODE_ID, controllerPort,
                SINGLE_NODE_ID + "@" + host + ":" + controllerPort, 1, extra);
    }

    /**
     * The configuration of one member of a multi-node cluster: as for a single node, but internal topics and new
     * topics are replicated to up to 3 nodes with at least 2 in sync ({@code min.insync.replicas=2} from 3 nodes
     * on), so acks=all survives the loss of one broker and refuses writes, rather than losing them, without two.
     */
    static Map<String, String> brokerProperties(Path dataDir, String host, int port, ClusterMember member,
                                                Map<String, String> extra) {
        return brokerProperties(dataDir, host, port, member.nodeId(), member.controllerPort(), member.voters(),
                member.size(), extra);
    }

    private static Map<String, String> brokerProperties(Path dataDir, String host, int port, int nodeId,
                                                        int controllerPort, String voters, int clusterSize,
                                                        Map<String, String> extra) {
        String rf = String.valueOf(Math.min(clusterSize, 3));
        String minIsr = String.valueOf(clusterSize >= 3 ? 2 : 1);
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("listeners", "PLAINTEXT://" + host + ":" + port + "," + CONTROLLER_LISTENER + "://" + host + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("log.dirs", dataDir.toString());

        p.put("auto.create.topics.enable", "true");
        p.put("num.partitions", "1");
        // A single node cannot hold more than one replica of the internal topics; in a cluster they get 3 (2 in
        // sync). 50 partitions each would only slow the first consumer group and the first transaction down.
        p.put("offsets.topic.replication.factor", rf);
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", rf);
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", rf);
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        if (clusterSize > 1) {
            p.put("default.replication.factor", rf);
            p.put("min.insync.replicas", minIsr);
            p.put("unclean.leader.election.enable", "false");
            // A controlled shutdown waits (up to 5 minutes) for the active controller to approve it. Cluster members
            // are stopped together, and one that lags its fellows waits for a quorum that has already gone (a CI
            // run saw a member killed after 30 s of it). Without it a member closes its logs cleanly at once; its
            // partitions move when its session expires, as after a crash. Nothing here stops one member alone.
            p.put("controlled.shutdown.enable", "false");
        }
        // Don't hold the first consumer group's join for 3 s.
        p.put("group.initial.rebalance.delay.ms", "0");
        // After a crash the restarted broker can only register once the controller has let the dead incarnation's
        // session expire (9 s by default), and in a cluster a killed broker keeps its partitions (no new leader, no
        // shrunk ISR) until it is fenced, when its session expires. A single node's heartbeats go to the controller
        // in the same process, so 3 s costs little: a broker stalled for 3 s is fenced, and unfenced by its next
        // heartbeat. A cluster member's go to another JVM on a busy machine, so it gets 6 s of slack against GC
        // pauses and CPU starvation.
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("broker.session.timeout.ms", clusterSize > 1 ? "6000" : "3000");

        // Modest footprint: fewer threads than a production broker, small segments and index files (Kafka
        // pre-allocates 10 MB per index by default), and an 8 MB compaction buffer instead of 128 MB of heap.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("log.segment.bytes", String.valueOf(16 * 1024 * 1024));
        p.put("log.index.size.max.bytes", String.valueOf(1024 * 1024));
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));

        p.putAll(extra);
        return p;
    }

    /** {@code props} with the extra listeners added to the listener lists and the protocol map. */
    static Map<String, String> withListeners(Map<String, String> props, String host, List<Listener> extra) {
        Map<String, String> p = new LinkedHashMap<>(props);
        for (Listener l : extra) {
            String at = l.protocol() + "://" + host + ":" + l.port();
            p.put("listeners", p.get("listeners") + "," + at);
            p.put("advertised.listeners", p.get("advertised.listeners") + "," + at);
            p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + "," + l.protocol()
                    + ":" + l.protocol());
        }
        return p;
    }

    /**
     * Formats the log directory on first use (a cluster member with its cluster's id); afterwards reads the cluster
     * id it recorded, which for a member must be its cluster's.
     */
    private boolean formatIfNew(KafkaConfig config) throws IOException {
        Path meta = dataDir.resolve("meta.properties");
        if (Files.exists(meta)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(meta)) {
                p.load(in);
            }
            clusterId = p.getProperty("cluster.id");
            if (member != null && !member.clusterId().equals(clusterId)) {
                throw new IOException(dataDir + ": formatted for cluster " + clusterId + ", not for this node's cluster "
                        + member.clusterId());
            }
            return false;
        }
        clusterId = member != null ? member.clusterId() : Uuid.randomUuid().toString();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            // what `kafka-storage.sh format -t <id> -c server.properties` does for a static quorum
            new Formatter()
                    .setPrintStream(out)
                    .setNodeId(config.nodeId())
                    .setClusterId(clusterId)
                    .setDirectories(List.of(dataDir.toString()))
                    .setMetadataLogDirectory(config.metadataLogDir())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setUnstableFeatureVersionsEnabled(false)
                    .setHasDynamicQuorum(false)
                    .run();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("formatting " + dataDir + " failed: " + e.getMessage(), e);
        }
        log.info("{}", output.toString(StandardCharsets.UTF_8).trim());
        return true;
    }

    /** Startup returns once the broker is unfenced; a real client round trip proves the listener is serving. */
    private void awaitAcceptingClients() throws InterruptedException, IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Map<String, Object> cfg = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        Exception last = null;
        try (Admin admin = Admin.create(cfg)) {
            while (System.nanoTime() < deadline) {
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(5_000)).nodes().get().isEmpty()) {
                        return;
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    last = e;
                }
                Thread.sleep(50);
            }
        }
        throw new IOException("broker at " + bootstrap() + " did not answer describeCluster within " + READY_TIMEOUT, last);
    }

    /**
     * Starts {@code kafka}, prints the ready line to {@code out}, and blocks until the JVM is asked to stop
     * (SIGTERM, SIGINT, {@code System.exit}); the broker is closed cleanly by a shutdown hook before the JVM exits.
     */
    public static void serveUntilShutdown(EmbeddedKafka kafka, PrintStream out) throws IOException, InterruptedException {
        kafka.start();
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                kafka.close();
                out.println(STOPPED_LINE);
                out.flush();
            } finally {
                closed.countDown();
            }
        }, "kafka-shutdown"));
        out.println(READY_PREFIX + kafka.bootstrap());
        out.flush();
        closed.await();
    }

    /**
     * {@code --data DIR [--port N] [--host H] [--prop KEY=VALUE]... [--listener PROTOCOL:PORT]... [--exit-with-pid PID]}, and for a member of a
     * multi-node cluster {@code --node-id N --controller-port C --voters ID@HOST:PORT,... --cluster-id ID}.
     * {@code --exit-with-pid} lets a parent that spawned this broker (tests, {@link KafkaCluster}) make sure it
     * cannot outlive the parent, even one killed by SIGKILL.
     */
    public static void main(String[] args) throws Exception {
        Path data = null;
        String host = "127.0.0.1";
        int port = 9092;
        Map<String, String> extra = new LinkedHashMap<>();
        long parentPid = -1;
        Integer nodeId = null;
        Integer controllerPort = null;
        String voters = null;
        String clusterId = null;
        List<Listener> listeners = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) {
                usage("missing value for " + args[i]);
            }
            switch (args[i]) {
                case "--data" -> data = Path.of(value);
                case "--port" -> port = Integer.parseInt(value);
                case "--host" -> host = value;
                case "--prop" -> {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        usage("--prop wants KEY=VALUE, got " + value);
                    }
                    extra.put(value.substring(0, eq), value.substring(eq + 1));
                }
                case "--exit-with-pid" -> parentPid = Long.parseLong(value);
                case "--node-id" -> nodeId = Integer.parseInt(value);
                case "--controller-port" -> controllerPort = Integer.parseInt(value);
                case "--voters" -> voters = value;
                case "--cluster-id" -> clusterId = value;
                case "--listener" -> listeners.add(Listener.parse(value));
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        if (data == null) {
            usage("--data is required");
        }
        boolean anyMemberOption = nodeId != null || controllerPort != null || voters != null || clusterId != null;
        boolean allMemberOptions = nodeId != null && controllerPort != null && voters != null && clusterId != null;
        if (anyMemberOption && !allMemberOptions) {
            usage("a cluster member needs all of --node-id, --controller-port, --voters and --cluster-id");
        }
        if (parentPid > 0) {
            ProcessHandle.of(parentPid).ifPresentOrElse(
                    parent -> parent.onExit().thenRun(EmbeddedKafka::exitWithoutParent),
                    () -> System.exit(0));
        }
        try {
            ClusterMember member = allMemberOptions ? new ClusterMember(nodeId, controllerPort, voters, clusterId) : null;
            serveUntilShutdown(new EmbeddedKafka(data, host, port, member, extra, listeners), System.out);
        } catch (Exception e) {
            // exit explicitly: a broker that failed half-way may leave non-daemon threads behind
            log.error("broker failed to start or serve", e);
            System.exit(1);
        }
    }

    /** How long a broker whose parent died may take to shut down cleanly before it halts. */
    private static final long ORPHAN_SHUTDOWN_MILLIS = 10_000;

    /**
     * The parent is gone: shut down cleanly if that is quick, else halt. A cluster member whose fellow brokers died
     * with the same parent waits in its clean shutdown for a controller quorum that will never come back (a CI run
     * saw one outlive its killed parent by more than 60 s); its log is recovered at the next start like any crash.
     */
    private static void exitWithoutParent() {
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(ORPHAN_SHUTDOWN_MILLIS);
            } catch (InterruptedException e) {
                // halt now
            }
            Runtime.getRuntime().halt(0);
        }, "kafka-orphan-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: EmbeddedKafka --data DIR [--port N] [--host H] [--prop KEY=VALUE]... [--exit-with-pid PID]"
                + " [--node-id N --controller-port C --voters ID@HOST:PORT,... --cluster-id ID] [--listener PROTOCOL:PORT]...");
        System.exit(2);
    }
}
