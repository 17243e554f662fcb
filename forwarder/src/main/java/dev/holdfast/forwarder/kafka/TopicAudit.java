package dev.holdfast.forwarder.kafka;

import dev.holdfast.forwarder.EventRecords;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/**
 * Reads a topic from the beginning with a real consumer and counts every Holdfast event id it sees: how tests, the
 * chaos suite and operators check that what agents were acknowledged arrived, and how often. Out-of-order counts a
 * first copy whose batch is older than one the same agent already had delivered in that partition (resent
 * duplicates do not count).
 */
public final class TopicAudit implements AutoCloseable {
    /** An event id's arrivals: how many copies, Kafka's timestamp of the first, and its value (a holdfast.v1.Event). */
    public record Seen(int copies, long firstTimestampMillis, byte[] value) {
    }

    private final Map<String, Seen> seen = new HashMap<>();
    private final Map<String, Long> highestSeq = new HashMap<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private long outOfOrder;

    public TopicAudit(String bootstrap, String topic) {
        this(bootstrap, topic, KafkaClientSecurity.NONE);
    }

    /** Reads through a listener that needs TLS or SASL, with the same settings as the forwarder's. */
    public TopicAudit(String bootstrap, String topic, KafkaClientSecurity security) {
        Properties p = new Properties();
        p.putAll(security.properties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "verify-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
    }

    /** Polls until at least {@code distinct} different event ids were seen, or the timeout passes. */
    public int readUntil(int distinct, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen.size() < distinct && System.nanoTime() < deadline) {
            poll();
        }
        return seen.size();
    }

    /**
     * Polls until every id in {@code expected} has arrived or the timeout passes, then reads the rest of what the topic
     * holds by then: every copy already in Kafka is counted (a caller that bounds duplicates first waits until the
     * forwarders have confirmed everything, so that none is still on its way).
     */
    public void readUntil(Collection<String> expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !seen.keySet().containsAll(expected)) {
            poll();
        }
        readToEnd(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    /** Reads every record the topic holds by now, not waiting for more; false if the timeout passed first. */
    public boolean readToEnd(Duration timeout) {
        return readToEnd(consumer, timeout, this::count);
    }

    /**
     * Polls a subscribed consumer until it has read every record its partitions held once it had them assigned (their
     * end offsets then), handing each to {@code sink}: a read that stops at what Kafka holds rather than after a quiet
     * period. False if the timeout passed first.
     */
    public static <K, V> boolean readToEnd(KafkaConsumer<K, V> consumer, Duration timeout,
                                           java.util.function.Consumer<ConsumerRecord<K, V>> sink) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.assignment().isEmpty()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            consumer.poll(Duration.ofMillis(100)).forEach(sink);
        }
        Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment(),
                Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        while (ends.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            consumer.poll(Duration.ofMillis(100)).forEach(sink);
        }
        return true;
    }

    /** Reads whatever else arrives within the period (to count duplicates that may still be on their way). */
    public void drain(Duration period) {
        long deadline = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < deadline) {
            poll();
        }
    }

    private void poll() {
        consumer.poll(Duration.ofMillis(200)).forEach(this::count);
    }

    private void count(ConsumerRecord<byte[], byte[]> r) {
        String id = EventRecords.eventId(r.headers());
        Seen before = seen.get(id);
        if (before != null) {
            seen.put(id, new Seen(before.copies() + 1, before.firstTimestampMillis(), before.value()));
            return;
        }
        seen.put(id, new Seen(1, r.timestamp(), r.value()));
        String agent = header(r, EventRecords.AGENT_ID);
        String seq = header(r, EventRecords.BATCH_SEQ);
        if (agent != null && seq != null) {
            String lane = agent + "@" + r.partition();
            long s = Long.parseUnsignedLong(seq); // batch_seq is a uint64
            Long high = highestSeq.get(lane);
            if (high != null && Long.compareUnsigned(s, high) < 0) {
                outOfOrder++;
            } else {
                highestSeq.put(lane, s);
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Copies seen of an event id (0 if never). */
    public int copies(String eventId) {
        Seen s = seen.get(eventId);
        return s == null ? 0 : s.copies();
    }

    /** The value first seen for an event id (null if never). */
    public byte[] value(String eventId) {
        Seen s = seen.get(eventId);
        return s == null ? null : s.value();
    }

    /** Every event id seen so far. */
    public Map<String, Seen> seen() {
        return seen;
    }

    public int distinct() {
        return seen.size();
    }

    /** Copies beyond the first, over every event id. */
    public long duplicates() {
        return seen.values().stream().mapToLong(s -> s.copies() - 1).sum();
    }

    public long outOfOrder() {
        return outOfOrder;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
