package dev.holdfast.chaos.harness;

import dev.holdfast.forwarder.EventRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
 * Reads a scenario's topic with a real Kafka consumer, from the beginning, and keeps per event id how many copies
 * arrived and when the first one was appended. Out-of-order counts a first copy whose batch is older than one the
 * same agent already had delivered in that partition (resent duplicates do not count).
 */
public final class TopicVerifier implements AutoCloseable {
    /** First arrival of an event id: Kafka's timestamp and the record's value (the agent's holdfast.v1.Event). */
    public record Seen(int copies, long firstTimestampMillis, byte[] value) {
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, Seen> seen = new HashMap<>();
    private final Map<String, Long> highestSeq = new HashMap<>();
    private long records;
    private long outOfOrder;

    public TopicVerifier(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "chaos-verify-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
    }

    /** Polls until every id in {@code expected} has arrived or the timeout passes; then reads {@code linger} more. */
    public void readUntil(Collection<String> expected, Duration timeout, Duration linger) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !allSeen(expected)) {
            poll();
        }
        long end = System.nanoTime() + linger.toNanos();
        while (System.nanoTime() < end) {
            poll();
        }
    }

    private boolean allSeen(Collection<String> expected) {
        for (String id : expected) {
            if (!seen.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    private void poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            records++;
            String id = EventRecords.eventId(r.headers());
            Seen before = seen.get(id);
            if (before == null) {
                seen.put(id, new Seen(1, r.timestamp(), r.value()));
                String agent = header(r, EventRecords.AGENT_ID);
                String seq = header(r, EventRecords.BATCH_SEQ);
                if (agent != null && seq != null) {
                    String lane = agent + "@" + r.partition();
                    long s = Long.parseLong(seq);
                    Long high = highestSeq.get(lane);
                    if (high != null && s < high) {
                        outOfOrder++;
                    } else {
                        highestSeq.put(lane, s);
                    }
                }
            } else {
                seen.put(id, new Seen(before.copies() + 1, before.firstTimestampMillis(), before.value()));
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    public Seen seen(String eventId) {
        return seen.get(eventId);
    }

    public Map<String, Seen> all() {
        return seen;
    }

    public long records() {
        return records;
    }

    public long outOfOrder() {
        return outOfOrder;
    }

    /** Copies beyond the first, over every event id. */
    public long duplicates() {
        long d = 0;
        for (Seen s : seen.values()) {
            d += s.copies() - 1;
        }
        return d;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
