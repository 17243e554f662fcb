package dev.holdfast.forwarder.kafka;

import dev.holdfast.broker.EmbeddedKafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.holdfast.forwarder.kafka.TopicManager.Ready;
import static dev.holdfast.forwarder.kafka.TopicManager.Refused;
import static dev.holdfast.forwarder.kafka.TopicManager.Result;
import static dev.holdfast.forwarder.kafka.TopicManager.Unavailable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TopicManager against a real single-node broker (auto-creation off), and against no broker at all. */
@Timeout(120)
class TopicManagerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** Kafka 4.x's message.max.bytes default: 1 MiB + 12 bytes of record batch overhead. */
    private static final int BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

    @TempDir
    static Path tmp;
    static EmbeddedKafka kafka;
    static Admin admin;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = new EmbeddedKafka(tmp.resolve("kafka"), "127.0.0.1", 0, Map.of("auto.create.topics.enable", "false"));
        kafka.start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()));
    }

    @AfterAll
    static void stopBroker() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void createsAMissingTopicWithTheRequestedSettings() throws Exception {
        Result r = new TopicManager(admin).ensure(List.of(new TopicSpec("t.created", 3, 1, 1, 2_000_000)), TIMEOUT);

        assertTrue(r.allReady(), r.toString());
        Ready ready = r.ready("t.created").orElseThrow();
        assertTrue(ready.created());
        assertEquals(3, ready.partitions());
        assertEquals(1, ready.replicationFactor());
        assertEquals(1, ready.minInsyncReplicas());
        assertEquals(2_000_000, ready.maxMessageBytes());
        assertEquals(List.of(), ready.differences());

        TopicDescription d = describe("t.created");
        assertEquals(3, d.partitions().size());
        d.partitions().forEach(p -> assertEquals(1, p.replicas().size()));
        Config c = configs("t.created");
        assertEquals("1", c.get("min.insync.replicas").value());
        assertEquals("2000000", c.get("max.message.bytes").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("max.message.bytes").source());
    }

    @Test
    void defaultsAreDerivedFromTheClusterAndMaxMessageBytesIsLeftToTheBroker() throws Exception {
        Result r = new TopicManager(admin).ensure(List.of(TopicSpec.withDefaults("t.defaults", 2)), TIMEOUT);

        Ready ready = r.ready("t.defaults").orElseThrow(() -> new AssertionError(r));
        assertTrue(ready.created());
        assertEquals(1, ready.replicationFactor(), "min(3, 1 broker)");
        assertEquals(1, ready.minInsyncReplicas(), "replication factor below 3");
        assertEquals(BROKER_DEFAULT_MAX_MESSAGE_BYTES, ready.maxMessageBytes(), "the broker default, reported");
        assertEquals(BROKER_DEFAULT_MAX_MESSAGE_BYTES, r.maxMessageBytes("t.defaults").orElseThrow());

        ConfigEntry max = configs("t.defaults").get("max.message.bytes");
        assertTrue(max.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, "not set on the topic: " + max);
        assertEquals(Integer.toString(BROKER_DEFAULT_MAX_MESSAGE_BYTES), max.value());
        assertEquals(1, describe("t.defaults").partitions().get(0).replicas().size());
    }

    @Test
    void anExistingTopicWithOtherSettingsIsReportedAndNotAltered() throws Exception {
        admin.createTopics(List.of(new NewTopic("t.existing", 1, (short) 1).configs(Map.of(
                "min.insync.replicas", "1", "max.message.bytes", "500000")))).all().get();

        Result r = new TopicManager(admin).ensure(List.of(new TopicSpec("t.existing", 3, 1, 2, 4_000_000)), TIMEOUT);

        Ready ready = r.ready("t.existing").orElseThrow(() -> new AssertionError(r));
        assertFalse(ready.created());
        assertEquals(List.of(
                "topic t.existing: partitions 1, configured 3",
                "topic t.existing: min.insync.replicas 1, configured 2",
                "topic t.existing: max.message.bytes 500000, configured 4000000"), ready.differences());
        assertEquals(1, ready.partitions());
        assertEquals(1, ready.minInsyncReplicas());
        assertEquals(500_000, ready.maxMessageBytes(), "what the topic has, not what was configured");

        assertEquals(1, describe("t.existing").partitions().size(), "not altered");
        Config c = configs("t.existing");
        assertEquals("1", c.get("min.insync.replicas").value());
        assertEquals("500000", c.get("max.message.bytes").value());
    }

    @Test
    void aReplicationFactorLargerThanTheClusterIsAPermanentClearError() throws Exception {
        Result r = new TopicManager(admin).ensure(List.of(
                new TopicSpec("t.rf", 1, 3, 0, 0), TopicSpec.withDefaults("t.fine", 1)), TIMEOUT);

        assertFalse(r.allReady());
        assertFalse(r.retriable(), "retrying will not add brokers");
        Refused refused = assertInstanceOf(Refused.class, r.outcome("t.rf").orElseThrow());
        System.out.println(refused.message());
        assertTrue(refused.message().startsWith("topic t.rf: replication factor 3 cannot be met: the cluster has "
                + "1 broker available"), refused.message());
        assertFalse(refused.message().contains("\n"), "one line");
        assertTrue(r.ready("t.fine").isPresent(), "the other topic is still created");
        assertFalse(admin.listTopics().names().get().contains("t.rf"));
    }

    @Test
    void aMinInsyncLargerThanTheReplicationFactorIsRefusedBeforeCreating() throws Exception {
        Result r = new TopicManager(admin).ensure(List.of(new TopicSpec("t.isr", 1, 1, 2, 0)), TIMEOUT);

        Refused refused = assertInstanceOf(Refused.class, r.outcome("t.isr").orElseThrow());
        assertEquals("topic t.isr: min.insync.replicas 2 is larger than its replication factor 1: every acks=all "
                + "write would be refused", refused.message());
        assertFalse(admin.listTopics().names().get().contains("t.isr"));
    }

    @Test
    void anIllegalTopicNameIsAPermanentErrorNamingTheTopic() throws Exception {
        Result bad = new TopicManager(admin).ensure(List.of(TopicSpec.withDefaults("t/slash", 1)), TIMEOUT);

        Refused refused = assertInstanceOf(Refused.class, bad.outcome("t/slash").orElseThrow());
        System.out.println(refused.message());
        assertTrue(refused.message().startsWith("topic t/slash: "), refused.message());
        assertFalse(bad.retriable());
    }

    @Test
    void aSecondEnsureIsIdempotent() throws Exception {
        List<TopicSpec> specs = List.of(new TopicSpec("t.twice", 2, 0, 0, 3_000_000));
        Ready first = new TopicManager(admin).ensure(specs, TIMEOUT).ready("t.twice").orElseThrow();
        Ready second = new TopicManager(admin).ensure(specs, TIMEOUT).ready("t.twice").orElseThrow();

        assertTrue(first.created());
        assertFalse(second.created());
        assertEquals(List.of(), second.differences());
        assertEquals(new Ready("t.twice", false, 2, 1, 1, 3_000_000, List.of()), second);
        assertEquals(first.maxMessageBytes(), second.maxMessageBytes());
    }

    @Test
    void twoIntakesEnsuringTheSameTopicAtOnceBothGetIt() throws Exception {
        List<TopicSpec> specs = List.of(TopicSpec.withDefaults("t.race", 4));
        Callable<Result> ensure = () -> new TopicManager(admin).ensure(specs, TIMEOUT);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Result> a = pool.submit(ensure);
            Future<Result> b = pool.submit(ensure);
            Ready ra = a.get().ready("t.race").orElseThrow(() -> new AssertionError(a));
            Ready rb = b.get().ready("t.race").orElseThrow(() -> new AssertionError(b));
            assertTrue(ra.created() ^ rb.created(), "exactly one created it: " + ra + " " + rb);
            assertEquals(List.of(), ra.differences());
            assertEquals(List.of(), rb.differences());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void noBrokerIsRetriableWithinTheTimeout() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (Admin unreachable = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + closedPort,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200))) {
            long t0 = System.nanoTime();
            Result r = new TopicManager(unreachable).ensure(
                    List.of(TopicSpec.withDefaults("t.a", 1), TopicSpec.withDefaults("t.b", 1)), Duration.ofSeconds(3));
            long ms = (System.nanoTime() - t0) / 1_000_000;

            assertTrue(r.retriable());
            assertEquals(2, r.unavailable().size());
            Unavailable u = r.unavailable().get(0);
            System.out.println(ms + " ms: " + u.message());
            assertTrue(u.message().startsWith("topic t.a: Kafka did not answer, could not describe the cluster"),
                    u.message());
            assertTrue(ms < 5_000, "returned within the timeout (+ grace): " + ms + " ms");
            unreachable.close(Duration.ofSeconds(1));
        }
    }

    @Test
    void specsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("t", 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("t", 1, -1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("t", 1, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("t", 1, 0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec(" ", 1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TopicManager(admin).ensure(
                List.of(TopicSpec.withDefaults("t", 1), TopicSpec.withDefaults("t", 2)), TIMEOUT));
        assertEquals(3, TopicSpec.withDefaults("t", 1).effectiveReplicationFactor(5));
        assertEquals(2, TopicSpec.withDefaults("t", 1).effectiveReplicationFactor(2));
        assertEquals(2, TopicSpec.withDefaults("t", 1).effectiveMinInsyncReplicas(3));
        assertEquals(1, TopicSpec.withDefaults("t", 1).effectiveMinInsyncReplicas(2));
    }

    private static TopicDescription describe(String topic) throws Exception {
        return admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic);
    }

    private static Config configs(String topic) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(Set.of(r)).all().get().get(r);
    }
}
