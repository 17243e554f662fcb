package dev.holdfast.chaos.harness;

import dev.holdfast.testkit.FreePorts;
import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.broker.KafkaCluster;
import dev.holdfast.forwarder.kafka.TopicAudit;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What every scenario shares: the built Holdfast, a work directory, one real Kafka broker (its own process) reached
 * through a proxy that can partition the intakes from it, the seed of the fault schedule, and the soak factor.
 */
public final class ChaosContext implements AutoCloseable {
    private final ChaosHome home;
    private final Path workDir;
    private final long seed;
    private final double soakFactor;
    private final PrintStream out;
    private final KafkaBrokerProcess kafka;
    private final TcpProxy kafkaProxy;
    private KafkaCluster cluster;

    private ChaosContext(ChaosHome home, Path workDir, long seed, double soakFactor, PrintStream out,
                         KafkaBrokerProcess kafka, TcpProxy kafkaProxy) {
        this.home = home;
        this.workDir = workDir;
        this.seed = seed;
        this.soakFactor = soakFactor;
        this.out = out;
        this.kafka = kafka;
        this.kafkaProxy = kafkaProxy;
    }

    /**
     * Starts the broker. It advertises the proxy's address, so every Kafka client (the intakes' forwarders and the
     * verifier) reaches it only through the proxy, and a partition of the proxy is a partition for all of them.
     */
    public static ChaosContext open(ChaosHome home, Path workDir, long seed, double soakFactor, PrintStream out)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        int brokerPort = FreePorts.next();
        TcpProxy proxy = new TcpProxy("kafka", 0, brokerPort);
        KafkaBrokerProcess kafka = new KafkaBrokerProcess(workDir.resolve("kafka"), brokerPort,
                Map.of("advertised.listeners", "PLAINTEXT://" + proxy.address()));
        try {
            kafka.start();
        } catch (IOException | RuntimeException e) {
            proxy.close();
            throw e;
        }
        out.printf("chaos: kafka broker up in %d ms (bootstrap through proxy %s); seed %d%n",
                kafka.lastStartTime().toMillis(), proxy.address(), seed);
        return new ChaosContext(home, workDir, seed, soakFactor, out, kafka, proxy);
    }

    public ChaosHome home() {
        return home;
    }

    public long seed() {
        return seed;
    }

    public PrintStream out() {
        return out;
    }

    public KafkaBrokerProcess kafka() {
        return kafka;
    }

    /**
     * A real 3-broker KRaft cluster (each broker its own process), started on first use and shared by the scenarios
     * about a replicated Kafka (each with topics of its own), so the suite pays its start-up once. A scenario that
     * kills brokers restarts them before it ends (if it fails before, the next use restarts them).
     */
    public synchronized KafkaCluster cluster() throws IOException, InterruptedException {
        if (cluster == null) {
            long t0 = System.nanoTime();
            KafkaCluster c = new KafkaCluster(workDir.resolve("kafka-cluster"), "127.0.0.1", 0, 3);
            c.start();
            cluster = c;
            log("3-broker cluster up in %d ms: %s", (System.nanoTime() - t0) / 1_000_000, c.bootstrap());
        }
        if (cluster.ids().stream().anyMatch(id -> !cluster.alive(id))) {
            log("restarting the brokers a failed scenario left down");
            cluster.start(); // every broker not running
        }
        return cluster;
    }

    public TcpProxy kafkaProxy() {
        return kafkaProxy;
    }

    public String kafkaBootstrap() {
        return kafkaProxy.address();
    }

    /** A fresh directory for one scenario run. */
    public Path dir(String scenario) throws IOException {
        Path d = workDir.resolve(scenario + "-" + System.currentTimeMillis());
        Files.createDirectories(d);
        return d;
    }

    /** A topic of its own for one scenario run, so the verifier reads only what that run produced. */
    public String topic(String scenario) {
        return "chaos-" + scenario + "-" + System.currentTimeMillis();
    }

    /** The scenario's own random stream: the same seed replays the same fault schedule. */
    public Random random(String scenario) {
        return new Random(seed ^ scenario.hashCode());
    }

    /** A duration in seconds scaled by --soak (at least the base). */
    public int seconds(int base) {
        return (int) Math.max(base, Math.round(base * soakFactor));
    }

    /** A count (kills, cycles) scaled by --soak. */
    public int times(int base) {
        return (int) Math.max(base, Math.round(base * soakFactor));
    }

    public void log(String format, Object... args) {
        out.printf("chaos: " + format + "%n", args);
    }

    public IntakeNode intake(Path dir, String id, String topic, Map<String, String> walSettings) throws IOException {
        return new IntakeNode(home, id, dir, dir.resolve(id + "-data"), kafkaBootstrap(), topic, walSettings);
    }

    /**
     * Ends the agents' load and waits for them to drain and exit, then checks the topic against their ack logs: every event of every
     * acknowledged batch must be in Kafka (lost = 0); duplicates and out-of-order are counted; availability comes
     * from the agents' own counts of answers. Returns what arrived, by event id.
     */
    public Map<String, TopicAudit.Seen> verifyDelivery(ScenarioResult r, String topic, List<LoadAgents> groups, AckTimeline timeline)
            throws IOException, InterruptedException {
        return verifyDelivery(r, topic, groups, timeline, Set.of(), Duration.ofSeconds(120));
    }

    /**
     * {@link #verifyDelivery(ScenarioResult, String, List, AckTimeline)} for a scenario that destroys data on
     * purpose: events of the acknowledged batches in {@code destroyed} ("agent seq", batches whose only copy the
     * scenario provably destroyed) are not demanded from Kafka (counted in the fact "destroyed acked events" when
     * missing, and not as lost); {@code timeout} bounds the wait for the others.
     */
    public Map<String, TopicAudit.Seen> verifyDelivery(ScenarioResult r, String topic, List<LoadAgents> groups,
                                                       AckTimeline timeline, Set<String> destroyed, Duration timeout)
            throws IOException, InterruptedException {
        return verifyDelivery(r, kafkaBootstrap(), topic, groups, timeline, destroyed, timeout);
    }

    /**
     * {@link #verifyDelivery(ScenarioResult, String, List, AckTimeline, Set, Duration)} against the Kafka at
     * {@code bootstrap} (a scenario's own cluster) instead of the suite's broker.
     */
    public Map<String, TopicAudit.Seen> verifyDelivery(ScenarioResult r, String bootstrap, String topic,
                                                       List<LoadAgents> groups, AckTimeline timeline,
                                                       Set<String> destroyed, Duration timeout)
            throws IOException, InterruptedException {
        Set<String> expected = new LinkedHashSet<>();
        Set<String> exempt = new LinkedHashSet<>();
        for (LoadAgents g : groups) {
            g.finish();
        }
        for (LoadAgents g : groups) {
            int exit = g.awaitExit(180);
            r.check(exit == 0, "agents " + g.spec().prefix() + " exited " + exit
                    + (exit == -1 ? " (still running after 180 s)" : " (something produced stayed unacknowledged)")
                    + ": " + g.process().logTail(600).replace('\n', ' '));
            if (exit == -1) {
                g.close();
            }
            List<String> acked = g.ackedBatches();
            Set<String> distinct = new LinkedHashSet<>(acked);
            r.check(distinct.size() == acked.size(), "agents " + g.spec().prefix() + " logged a batch acknowledged twice");
            r.ackedBatches += distinct.size();
            expected.addAll(g.ackedEventIds(new ArrayList<>(distinct)));
            exempt.addAll(g.ackedEventIds(distinct.stream().filter(destroyed::contains).toList()));
            if (exit >= 0) {
                JsonNode rep = g.report();
                long ackedAnswers = rep.path("totalBatchesAcked").asLong();
                long retries = rep.path("retries").asLong();
                long sent = rep.path("batchesSent").asLong();
                r.sentBatches += ackedAnswers + rep.path("unacknowledged").asLong();
                r.persisted += ackedAnswers;
                r.retryLater += retries;
                r.noAnswer += Math.max(0, sent - ackedAnswers - retries - rep.path("invalid").asLong());
                r.fact("reconnects(" + g.spec().prefix() + ")", rep.path("reconnects").asLong());
            }
        }
        r.ackedEvents = expected.size();
        r.check(r.ackedBatches > 0, "nothing was acknowledged: the scenario proved nothing");
        if (timeline != null) {
            r.maxAckGapMillis = timeline.maxAckGapMillis();
            r.ackedPerSecond = timeline.acksPerSecond();
        }
        try (TopicAudit v = new TopicAudit(bootstrap, topic)) {
            Set<String> demanded = new LinkedHashSet<>(expected);
            demanded.removeAll(exempt);
            // every copy Kafka holds by then; a scenario that bounds duplicates waits for its forwarders first
            v.readUntil(demanded, timeout);
            long destroyedMissing = 0;
            for (String id : expected) {
                if (v.copies(id) > 0) {
                    r.deliveredEvents++;
                } else if (exempt.contains(id)) {
                    destroyedMissing++;
                } else {
                    r.lostEvents++;
                    if (r.lostSample.size() < 10) {
                        r.lostSample.add(id);
                    }
                }
            }
            if (!destroyed.isEmpty()) {
                r.fact("destroyed acked events", destroyedMissing);
            }
            r.duplicateEvents = v.duplicates();
            r.outOfOrder = v.outOfOrder();
            r.check(r.lostEvents == 0, r.lostEvents + " acknowledged events missing from Kafka, e.g. " + r.lostSample);
            return v.seen();
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            if (cluster != null) {
                // nothing checks a clean stop here, and a graceful one waits out Kafka's 5 s shutdown timeout
                for (int id : cluster.ids()) {
                    if (cluster.alive(id)) {
                        cluster.kill(id);
                    }
                }
                cluster.close();
            }
            kafka.close();
        } finally {
            kafkaProxy.close();
        }
    }
}
