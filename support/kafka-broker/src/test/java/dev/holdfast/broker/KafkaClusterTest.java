package dev.holdfast.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real 3-node KRaft cluster, each broker its own process: a topic with 3 replicas and min.insync.replicas=2 keeps
 * taking acks=all writes while its leader is SIGKILLed, refuses them (instead of acknowledging them) with two brokers
 * down, and afterwards holds every record it acknowledged, exactly once.
 */
class KafkaClusterTest {
    private static final String TOPIC = "cluster-events";
    private static final int N = 500;

    @TempDir
    Path tmp;

    @Test
    @Timeout(300)
    void acknowledgedRecordsSurviveTheLeadersCrashAndTwoBrokersDownRefusesWrites() throws Exception {
        Path dir = tmp.resolve("cluster");
        try (KafkaCluster cluster = new KafkaCluster(dir, "127.0.0.1", 0, 3)) {
            long t0 = System.nanoTime();
            cluster.start();
            System.out.println("3 brokers up in " + ms(t0) + " ms: " + cluster.bootstrap());
            Set<Long> pids = new HashSet<>();
            for (int id : cluster.ids()) {
                assertTrue(cluster.alive(id));
                pids.add(cluster.pid(id));
                assertTrue(Files.isDirectory(dir.resolve("broker-" + id)), "each broker has its own log directory");
            }
            assertEquals(3, pids.size(), "three processes");
            assertTrue(Files.exists(dir.resolve(KafkaCluster.PROPERTIES_FILE)));

            // the same directory is the same cluster: same id and ports, and a different size is refused
            KafkaCluster again = new KafkaCluster(dir, "127.0.0.1", 0, 3);
            assertEquals(cluster.bootstrap(), again.bootstrap());
            assertEquals(cluster.clusterId(), again.clusterId());
            IOException wrongSize = assertThrows(IOException.class, () -> new KafkaCluster(dir, "127.0.0.1", 0, 5));
            assertTrue(wrongSize.getMessage().contains("has 3 nodes, not 5"), wrongSize.getMessage());

            try (Admin admin = cluster.admin()) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            }
            cluster.awaitIsr(TOPIC, 0, 3, Duration.ofSeconds(30));

            List<String> acked = new ArrayList<>();
            try (KafkaProducer<String, String> producer = producer(cluster.bootstrap(), Duration.ofSeconds(120), true)) {
                acked.addAll(produce(producer, 0, N));

                // the leader crashes: the other two take over and writes carry on
                int leader = cluster.leader(TOPIC, 0);
                assertTrue(leader >= 1, "a leader: " + leader);
                cluster.kill(leader);
                assertFalse(cluster.alive(leader));
                long t1 = System.nanoTime();
                acked.addAll(produce(producer, N, 2 * N));
                int newLeader = cluster.leader(TOPIC, 0);
                System.out.println("leader " + leader + " SIGKILLed; " + N + " records acknowledged " + ms(t1)
                        + " ms later, new leader " + newLeader);
                assertTrue(newLeader >= 1 && newLeader != leader, "a new leader: " + newLeader);
                assertEquals(2, cluster.isr(TOPIC, 0).size(), "the dead broker left the ISR");

                long t2 = System.nanoTime();
                cluster.start(leader);
                cluster.awaitNodes(3, Duration.ofSeconds(60));
                cluster.awaitIsr(TOPIC, 0, 3, Duration.ofSeconds(60));
                System.out.println("broker " + leader + " restarted and back in the ISR in " + ms(t2) + " ms");

                // two brokers down: one replica left, fewer than min.insync.replicas (and no controller quorum)
                int survivor = cluster.leader(TOPIC, 0);
                List<Integer> down = cluster.ids().stream().filter(id -> id != survivor).toList();
                for (int id : down) {
                    cluster.kill(id);
                }
                // Not idempotent: an idempotent producer first needs a producer id, which only a controller quorum
                // hands out, so it would wait for that rather than ask the surviving leader to write.
                KafkaProducer<String, String> probe = producer(cluster.bootstrap(), Duration.ofSeconds(8), false);
                try {
                    Future<RecordMetadata> ack = probe.send(new ProducerRecord<>(TOPIC, "probe", "must not be acknowledged"));
                    ExecutionException e = assertThrows(ExecutionException.class, () -> ack.get(60, TimeUnit.SECONDS),
                            "acks=all with one broker of three must fail, not be acknowledged");
                    Throwable why = e.getCause();
                    System.out.println("with brokers " + down + " down the write failed: " + why);
                    assertTrue(why instanceof TimeoutException || why instanceof NotEnoughReplicasException
                            || why instanceof NotEnoughReplicasAfterAppendException, "why: " + why);
                } finally {
                    probe.close(Duration.ZERO);
                }

                long t3 = System.nanoTime();
                cluster.start(down);
                cluster.awaitNodes(3, Duration.ofSeconds(60));
                cluster.awaitIsr(TOPIC, 0, 3, Duration.ofSeconds(60));
                System.out.println("brokers " + down + " restarted together and in the ISR in " + ms(t3) + " ms");
                // the producer that saw nothing of the outage carries on
                acked.addAll(produce(producer, 2 * N, 3 * N));
            }

            Map<String, Integer> seen = consumeAll(cluster.bootstrap(), acked.size() + 1, Duration.ofSeconds(60));
            for (String key : acked) {
                Integer count = seen.get(key);
                if (count == null || count != 1) {
                    fail(key + " was acknowledged and is in the topic " + (count == null ? 0 : count) + " times");
                }
            }
            System.out.println(acked.size() + " acknowledged records all in the topic once; " + seen.size()
                    + " distinct keys in all (the probe may be there: written to the leader, never acknowledged)");

            long t4 = System.nanoTime();
            cluster.close();
            for (int id : cluster.ids()) {
                assertFalse(cluster.alive(id));
                assertTrue(Files.readString(cluster.log(id)).strip().endsWith(EmbeddedKafka.STOPPED_LINE),
                        "broker " + id + " shut down cleanly");
            }
            System.out.println("closed in " + ms(t4) + " ms");
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static KafkaProducer<String, String> producer(String bootstrap, Duration deliveryTimeout, boolean idempotent) {
        int delivery = (int) deliveryTimeout.toMillis();
        Map<String, Object> cfg = new HashMap<>();
        cfg.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cfg.put(ProducerConfig.ACKS_CONFIG, "all");
        cfg.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
        cfg.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, delivery);
        cfg.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        cfg.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        cfg.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(delivery - 10, 5_000));
        cfg.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, delivery);
        return new KafkaProducer<>(cfg, new StringSerializer(), new StringSerializer());
    }

    /** Sends key-i for i in [from, to) and returns the keys once every send is acknowledged (or fails the test). */
    private static List<String> produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = from; i < to; i++) {
            keys.add("key-" + i);
            acks.add(producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i)));
        }
        producer.flush();
        for (Future<RecordMetadata> ack : acks) {
            ack.get(150, TimeUnit.SECONDS);
        }
        return keys;
    }

    /** Every key in the topic with how often it is there, read by a fresh consumer from the beginning. */
    private static Map<String, Integer> consumeAll(String bootstrap, int atMost, Duration timeout) {
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = KafkaClients.consumer(bootstrap, "audit")) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + timeout.toNanos();
            int total = 0;
            int quiet = 0;
            while (System.nanoTime() < deadline && quiet < 5) {
                int before = total;
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) {
                    seen.merge(r.key(), 1, Integer::sum);
                    total++;
                }
                // done once everything there could be has arrived and nothing more comes
                quiet = total >= atMost - 1 && total == before ? quiet + 1 : 0;
            }
        }
        return seen;
    }
}
