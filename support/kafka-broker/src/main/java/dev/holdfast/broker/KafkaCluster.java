package dev.holdfast.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * A real Kafka cluster of N combined broker+controller KRaft nodes on this machine, each in its own OS process
 * ({@link KafkaBrokerProcess}) with its own log directory, {@code DIR/broker-1} ... {@code DIR/broker-N} (logs in
 * {@code DIR/broker-N.log}), so a test or the chaos suite can SIGKILL and restart single brokers.
 *
 * <p>The quorum is a static voter set, {@code 1@host:c1,2@host:c2,...}: its addresses live in every member's
 * configuration, so they and the client ports must not change while the cluster lives. They are picked once, when
 * the cluster is created, and kept with the cluster id in {@code DIR/cluster.properties}; a later
 * {@code KafkaCluster} on the same directory reuses them. With 3 or more nodes, topics and the internal topics
 * default to 3 replicas and {@code min.insync.replicas=2}.
 *
 * <p>A member blocks its start-up until a majority of the voters is up, so the members of a stopped cluster must be
 * started together: {@link #start()} and {@link #start(Collection)} start them in parallel. Every member dies with
 * the JVM that started it, even one killed by SIGKILL.
 */
public final class KafkaCluster implements AutoCloseable {
    /** Cluster id, size and every node's ports, written when the cluster is created. */
    public static final String PROPERTIES_FILE = "cluster.properties";
    /**
     * Each broker's own JVM flags, after this JVM's: a small heap (3 brokers share the machine with an intake and
     * the load), and the C1 compiler only, which halves the CPU three JVMs starting at once need on 2 cores.
     */
    public static final List<String> DEFAULT_BROKER_JVM_ARGS = List.of("-Xmx384m", "-XX:TieredStopAtLevel=1");
    /** Controller ports, with a fixed first client port P: P+100, P+101, ... */
    public static final int CONTROLLER_PORT_OFFSET = 100;

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final Path dir;
    private final String host;
    private final String clusterId;
    private final List<Integer> clientPorts;
    private final List<Integer> controllerPorts;
    private final Map<Integer, KafkaBrokerProcess> brokers = new LinkedHashMap<>();

    /** See {@link #KafkaCluster(Path, String, int, int, Map, List)}; default broker settings and JVM flags. */
    public KafkaCluster(Path dir, String host, int firstPort, int size) throws IOException {
        this(dir, host, firstPort, size, Map.of(), DEFAULT_BROKER_JVM_ARGS);
    }

    /**
     * Creates the cluster's directory and {@code cluster.properties} on first use, or reads them; starts nothing.
     *
     * @param firstPort client port of node 1; node i gets {@code firstPort + i - 1} and controller port
     *                  {@code firstPort + 100 + i - 1}. 0: the ports recorded in {@code DIR/cluster.properties}, or
     *                  free ports when the cluster is new. A non-zero port must match the recorded ones.
     * @param size      the number of nodes (all voters); must match a recorded cluster's
     * @param extraProperties broker properties for every node, on top of {@link EmbeddedKafka}'s
     * @param brokerJvmArgs   JVM flags for every broker process, after this JVM's own
     * @throws IOException the directory cannot be used, or it holds a different cluster
     */
    public KafkaCluster(Path dir, String host, int firstPort, int size, Map<String, String> extraProperties,
                        List<String> brokerJvmArgs) throws IOException {
        if (size < 1) {
            throw new IllegalArgumentException("a cluster needs at least one node, was " + size);
        }
        if (firstPort < 0 || firstPort + CONTROLLER_PORT_OFFSET + size - 1 > 65535) {
            throw new IllegalArgumentException("first port must be 0 or leave room for " + size + " client and "
                    + "controller ports (port + " + CONTROLLER_PORT_OFFSET + " + " + (size - 1) + " <= 65535), was "
                    + firstPort);
        }
        this.dir = dir.toAbsolutePath();
        this.host = host;
        Files.createDirectories(this.dir);
        Path file = this.dir.resolve(PROPERTIES_FILE);
        Properties recorded = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                recorded.load(in);
            }
            clusterId = required(recorded, file, "cluster.id");
            int recordedSize = Integer.parseInt(required(recorded, file, "size"));
            if (recordedSize != size) {
                throw new IOException(file + ": the cluster there has " + recordedSize + " nodes, not " + size);
            }
            clientPorts = new ArrayList<>();
            controllerPorts = new ArrayList<>();
            for (int id = 1; id <= size; id++) {
                clientPorts.add(Integer.parseInt(required(recorded, file, "node." + id + ".port")));
                controllerPorts.add(Integer.parseInt(required(recorded, file, "node." + id + ".controller.port")));
            }
            if (firstPort != 0 && !clientPorts.equals(consecutive(firstPort, size))) {
                throw new IOException(file + ": the cluster there has client ports " + join(clientPorts)
                        + ", not " + join(consecutive(firstPort, size)) + " (leave the port out to reuse them)");
            }
        } else {
            clusterId = Uuid.randomUuid().toString();
            if (firstPort != 0) {
                clientPorts = consecutive(firstPort, size);
                controllerPorts = consecutive(firstPort + CONTROLLER_PORT_OFFSET, size);
            } else {
                List<Integer> free = FreePorts.distinct(host, 2 * size, List.of());
                clientPorts = new ArrayList<>(free.subList(0, size));
                controllerPorts = new ArrayList<>(free.subList(size, 2 * size));
            }
            Properties p = new Properties();
            p.setProperty("cluster.id", clusterId);
            p.setProperty("size", String.valueOf(size));
            for (int id = 1; id <= size; id++) {
                p.setProperty("node." + id + ".port", String.valueOf(clientPorts.get(id - 1)));
                p.setProperty("node." + id + ".controller.port", String.valueOf(controllerPorts.get(id - 1)));
            }
            Path tmp = this.dir.resolve(PROPERTIES_FILE + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                p.store(out, "Holdfast Kafka cluster: its members' addresses must not change (static KRaft voters)");
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        String voters = EmbeddedKafka.ClusterMember.voters(host, controllerPorts);
        for (int id = 1; id <= size; id++) {
            EmbeddedKafka.ClusterMember member =
                    new EmbeddedKafka.ClusterMember(id, controllerPorts.get(id - 1), voters, clusterId);
            brokers.put(id, new KafkaBrokerProcess(this.dir.resolve("broker-" + id), host, clientPorts.get(id - 1),
                    member, extraProperties, brokerJvmArgs));
        }
    }

    /**
     * Starts every node that is not running, in parallel, and returns once the cluster describes itself with all
     * of its nodes. On failure every node is killed and the exception carries the failing brokers' logs.
     */
    public void start() throws IOException, InterruptedException {
        start(ids().stream().filter(id -> !alive(id)).toList());
        awaitNodes(size(), READY_TIMEOUT);
    }

    /**
     * Starts (restarts) broker {@code id} on its directory and ports and waits until it serves clients, which it
     * does once it has registered with a quorum of controllers: a majority of the nodes, this one included, must be
     * running, or this blocks until it fails (use {@link #start(Collection)} to start several at once).
     */
    public void start(int id) throws IOException, InterruptedException {
        broker(id).start();
    }

    /** Starts these brokers in parallel, each as {@link #start(int)}; on failure all of them are killed. */
    public void start(Collection<Integer> ids) throws IOException, InterruptedException {
        ids.forEach(this::broker);
        if (ids.size() == 1) {
            start(ids.iterator().next());
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, ids.size()), r -> {
            Thread t = new Thread(r, "kafka-cluster-start");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> starts = new ArrayList<>();
            for (int id : ids) {
                starts.add(pool.submit(() -> {
                    broker(id).start();
                    return null;
                }));
            }
            IOException failure = null;
            for (Future<?> f : starts) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    IOException io = e.getCause() instanceof IOException x ? x : new IOException(e.getCause());
                    if (failure == null) {
                        failure = io;
                    } else {
                        failure.addSuppressed(io);
                    }
                }
            }
            if (failure != null) {
                for (int id : ids) {
                    broker(id).kill();
                }
                throw failure;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** SIGKILL to broker {@code id}: no shutdown hook, no flush; returns once the process is gone. */
    public void kill(int id) throws InterruptedException {
        broker(id).kill();
    }

    /** SIGTERM to broker {@code id}, then waits for its clean shutdown; returns the exit status (143). */
    public int stop(int id) throws InterruptedException {
        return broker(id).stop();
    }

    public boolean alive(int id) {
        return broker(id).alive();
    }

    /** The OS process id of broker {@code id} (the last one, if it is not running); -1 before its first start. */
    public long pid(int id) {
        return broker(id).pid();
    }

    /** {@code host:port} of broker {@code id}'s client listener. */
    public String bootstrap(int id) {
        return host + ":" + clientPorts.get(index(id));
    }

    /** Every broker's {@code host:port}, comma-separated, for {@code bootstrap.servers}. */
    public String bootstrap() {
        return ids().stream().map(this::bootstrap).collect(Collectors.joining(","));
    }

    /** The brokers that run now, comma-separated; what an admin client should try first. */
    private String aliveBootstrap() {
        String alive = ids().stream().filter(this::alive).map(this::bootstrap).collect(Collectors.joining(","));
        return alive.isEmpty() ? bootstrap() : alive;
    }

    /** The node ids, 1..N. */
    public List<Integer> ids() {
        return List.copyOf(brokers.keySet());
    }

    public int size() {
        return brokers.size();
    }

    public String clusterId() {
        return clusterId;
    }

    public Path dir() {
        return dir;
    }

    /** Broker {@code id}'s stdout and stderr, all its starts appended. */
    public Path log(int id) {
        return broker(id).log();
    }

    /** The controller port of node {@code id}. */
    public int controllerPort(int id) {
        return controllerPorts.get(index(id));
    }

    /**
     * The id of the broker that leads {@code topic}'s {@code partition}, as the cluster's metadata says now; -1
     * when the partition has no leader.
     */
    public int leader(String topic, int partition) throws IOException, InterruptedException {
        Node leader = partitionInfo(topic, partition).leader();
        return leader == null || leader.isEmpty() ? -1 : leader.id();
    }

    /** The ids of the in-sync replicas of {@code topic}'s {@code partition}, as the cluster's metadata says now. */
    public List<Integer> isr(String topic, int partition) throws IOException, InterruptedException {
        return partitionInfo(topic, partition).isr().stream().map(Node::id).sorted().toList();
    }

    /** Waits until {@code topic}'s {@code partition} has {@code replicas} in-sync replicas (a restarted broker caught up). */
    public void awaitIsr(String topic, int partition, int replicas, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Integer> isr = List.of();
        while (System.nanoTime() < deadline) {
            try {
                isr = isr(topic, partition);
                if (isr.size() >= replicas) {
                    return;
                }
            } catch (IOException notNow) {
                // metadata briefly unavailable while brokers come and go
            }
            Thread.sleep(200);
        }
        throw new IOException(topic + "-" + partition + " has in-sync replicas " + isr + ", not " + replicas
                + " within " + timeout);
    }

    /** Waits until the cluster describes itself with at least {@code nodes} brokers. */
    public void awaitNodes(int nodes, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        int seen = 0;
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    seen = admin.describeCluster(new DescribeClusterOptions().timeoutMs(5_000)).nodes().get().size();
                    if (seen >= nodes) {
                        return;
                    }
                } catch (ExecutionException e) {
                    last = e;
                }
                Thread.sleep(100);
            }
        }
        throw new IOException("the cluster at " + bootstrap() + " described " + seen + " brokers, not " + nodes
                + ", within " + timeout, last);
    }

    /** An admin client on the brokers that run now; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, aliveBootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500));
    }

    private TopicPartitionInfo partitionInfo(String topic, int partition) throws IOException, InterruptedException {
        try (Admin admin = admin()) {
            TopicDescription d = admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(10_000))
                    .allTopicNames().get().get(topic);
            return d.partitions().stream().filter(p -> p.partition() == partition).findFirst()
                    .orElseThrow(() -> new IOException(topic + " has no partition " + partition));
        } catch (ExecutionException e) {
            throw new IOException("describing " + topic + " failed: " + e.getCause(), e.getCause());
        }
    }

    /** Stops every running broker with SIGTERM, in parallel, and waits for them (kills one that hangs). */
    @Override
    public void close() throws InterruptedException {
        List<Thread> stops = new ArrayList<>();
        for (KafkaBrokerProcess b : brokers.values()) {
            Thread t = new Thread(() -> {
                try {
                    if (b.alive()) {
                        b.stop();
                    }
                } catch (InterruptedException | RuntimeException e) {
                    try {
                        b.kill();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "kafka-cluster-stop");
            t.start();
            stops.add(t);
        }
        for (Thread t : stops) {
            t.join();
        }
    }

    private KafkaBrokerProcess broker(int id) {
        KafkaBrokerProcess b = brokers.get(id);
        if (b == null) {
            throw new IllegalArgumentException("no broker " + id + " in a cluster of " + brokers.size());
        }
        return b;
    }

    private int index(int id) {
        broker(id);
        return id - 1;
    }

    private static List<Integer> consecutive(int first, int n) {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ports.add(first + i);
        }
        return ports;
    }

    private static String join(List<Integer> ports) {
        return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static String required(Properties p, Path file, String key) throws IOException {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IOException(file + ": " + key + " is missing");
        }
        return v.trim();
    }
}
