package dev.holdfast.forwarder.kafka;

import dev.holdfast.forwarder.EventRecords;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/**
 * Reads a topic from the beginning with a real consumer and counts every Holdfast event id it sees: how tests and
 * operators check that what agents were acknowledged arrived, and how often.
 */
public final class TopicAudit implements AutoCloseable {
    private final Map<String, Integer> copies = new HashMap<>();
    private final Map<String, byte[]> values = new HashMap<>();
    private final KafkaConsumer<byte[], byte[]> consumer;

    public TopicAudit(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "verify-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
    }

    /** Polls until at least {@code distinct} different event ids were seen, or the timeout passes. */
    public int readUntil(int distinct, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (copies.size() < distinct && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                String id = EventRecords.eventId(r.headers());
                copies.merge(id, 1, Integer::sum);
                values.put(id, r.value());
            }
        }
        return copies.size();
    }

    /** Reads whatever else arrives within the period (to count late duplicates). */
    public void drain(Duration period) {
        long deadline = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                copies.merge(EventRecords.eventId(r.headers()), 1, Integer::sum);
            }
        }
    }

    /** Copies seen of an event id (0 if never). */
    public int copies(String eventId) {
        return copies.getOrDefault(eventId, 0);
    }

    /** The value last seen for an event id. */
    public byte[] value(String eventId) {
        return values.get(eventId);
    }

    public int distinct() {
        return copies.size();
    }

    public long duplicates() {
        return copies.values().stream().mapToLong(n -> n - 1).sum();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
