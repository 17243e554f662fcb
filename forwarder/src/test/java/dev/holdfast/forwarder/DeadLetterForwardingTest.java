package dev.holdfast.forwarder;

import dev.holdfast.forwarder.deadletter.DeadLetter;
import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.forwarder.deadletter.DeadLetters;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import com.google.protobuf.ByteString;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One record Kafka will never take, in the middle of a stream, against a real broker (its own process, topic
 * auto-creation off): it is dead-lettered once, to the dead-letter topic or the local file, and nothing else waits
 * for it — not the records after it, not its own batch's other events, not the circuit breaker.
 */
class DeadLetterForwardingTest {
    @TempDir
    static Path brokerDir;
    static KafkaBrokerProcess broker;
    static Admin admin;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBrokerProcess(brokerDir.resolve("kafka"), 0, Map.of("auto.create.topics.enable", "false"));
        broker.start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()));
    }

    @AfterAll
    static void stopBroker() throws Exception {
        admin.close();
        broker.close();
    }

    static void createTopic(String name, int maxMessageBytes) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, 1, (short) 1)
                .configs(Map.of("max.message.bytes", String.valueOf(maxMessageBytes))))).all().get(30, TimeUnit.SECONDS);
    }

    /** A batch of {@code events} small events; event {@code poisonAt} (or none, -1) carries {@code poisonBytes}. */
    static byte[] batch(String agent, long seq, int events, int poisonAt, int poisonBytes) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(seq);
        for (int i = 0; i < events; i++) {
            Event.Builder e = Event.newBuilder().setTimeUnixNano(seq * 1000 + i);
            if (i == poisonAt) {
                byte[] junk = new byte[poisonBytes];
                new Random(seq).nextBytes(junk); // incompressible: compression must not get it under the limit
                e.setOpaque(ByteString.copyFrom(junk));
            } else {
                e.setOpaque(ByteString.copyFromUtf8("event " + seq + "/" + i));
            }
            b.addEvents(e);
        }
        return b.build().toByteArray();
    }

    static long append(Wal wal, String agent, long seq, int events, int poisonAt, int poisonBytes) throws Exception {
        AppendResult r = wal.append(new BatchHeader(agent, seq, events, BatchPriority.NORMAL,
                System.currentTimeMillis() * 1_000_000L), batch(agent, seq, events, poisonAt, poisonBytes)).get();
        return r.index();
    }

    static Set<String> ids(String agent, long fromSeq, long toSeq, int events) {
        Set<String> ids = new HashSet<>();
        for (long s = fromSeq; s <= toSeq; s++) {
            for (int i = 0; i < events; i++) {
                ids.add(agent + "/" + s + "/" + i);
            }
        }
        return ids;
    }

    private ForwarderConfig config(String topic, Path dir) {
        return ForwarderConfig.defaults(broker.bootstrap(), topic, "node-d", dir)
                .withTopicSettings(new ForwarderConfig.TopicSettings(1, 0, 0, 0));
    }

    @Test
    void aRecordTheTopicRefusesIsDeadLetteredOnceAndEverythingAfterItArrives() throws Exception {
        String topic = "dl-topic";
        createTopic(topic, 100_000);              // takes the small events, refuses the 300 KB one
        createTopic(topic + ".dlq", 2_000_000);   // takes it
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Path dir = tmp.resolve("forwarder");
        long poisonIndex;
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            try (Forwarder fw = new Forwarder(config(topic, dir), wal, registry).start();
                 TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
                for (long s = 1; s <= 10; s++) append(wal, "p", s, 5, -1, 0);
                poisonIndex = append(wal, "p", 11, 5, 2, 300_000);
                long last = -1;
                for (long s = 12; s <= 40; s++) last = append(wal, "p", s, 5, -1, 0);

                Set<String> expected = ids("p", 1, 40, 5);
                expected.remove("p/11/2");
                audit.readUntil(expected, Duration.ofSeconds(60));
                assertTrue(audit.seen().keySet().containsAll(expected), "missing after the poison record: "
                        + expected.stream().filter(id -> !audit.seen().containsKey(id)).limit(10).toList());
                assertEquals(0, audit.copies("p/11/2"), "the refused event cannot be in the topic");
                fw.whenConfirmed(poisonIndex).get(30, TimeUnit.SECONDS); // retention is not held up by it
                fw.whenConfirmedThrough(last).get(30, TimeUnit.SECONDS);
                assertEquals(CircuitBreaker.State.CLOSED, fw.circuitState(), "a permanent error is not an outage");
                assertEquals(1.0, registry.get("forwarder.dead.letters").tag("reason", "record_too_large")
                        .tag("destination", "topic").counter().count());
            }
            List<ConsumerRecord<byte[], byte[]>> letters = readAll(topic + ".dlq");
            assertEquals(1, letters.size());
            ConsumerRecord<byte[], byte[]> letter = letters.get(0);
            assertEquals("p/11/2", header(letter, EventRecords.EVENT_ID));
            assertEquals("record_too_large", header(letter, DeadLetters.REASON));
            assertEquals("org.apache.kafka.common.errors.RecordTooLargeException", header(letter, DeadLetters.ERROR_CLASS));
            assertEquals(topic, header(letter, DeadLetters.ORIGINAL_TOPIC));
            assertEquals("p", new String(letter.key(), StandardCharsets.UTF_8));
            assertEquals(EventBatch.parseFrom(batch("p", 11, 5, 2, 300_000)).getEvents(2),
                    Event.parseFrom(letter.value()), "the dead letter carries the event's exact bytes");

            DeadLetterFile.Contents file = DeadLetterFile.read(dir.resolve("dead-letters").resolve(DeadLetterFile.NAME));
            assertEquals(1, file.entries().size());
            DeadLetter d = file.entries().get(0);
            assertEquals(poisonIndex, d.walIndex());
            assertTrue(d.destination().startsWith("topic " + topic + ".dlq partition 0 offset "), d.destination());

            // the progress store is lost: everything is sent again, but the dead letter is not dead-lettered twice
            deleteRecursively(dir.resolve("progress"));
            try (Forwarder fw = new Forwarder(config(topic, dir), wal, new SimpleMeterRegistry()).start()) {
                fw.whenConfirmedThrough(poisonIndex + 29).get(60, TimeUnit.SECONDS);
            }
            assertEquals(1, readAll(topic + ".dlq").size(), "dead-lettered once");
            assertEquals(1, DeadLetterFile.read(dir.resolve("dead-letters").resolve(DeadLetterFile.NAME)).entries().size());
        }
    }

    @Test
    void whenTheDeadLetterTopicRefusesItTooTheEventIsKeptInTheLocalFile() throws Exception {
        String topic = "dl-file";
        Path dir = tmp.resolve("forwarder");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // the producer itself refuses anything over 200 KB, for the dead-letter topic as for the topic
        ForwarderConfig cfg = config(topic, dir).withProducerProperties(Map.of("max.request.size", "200000"));
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE);
             Forwarder fw = new Forwarder(cfg, wal, registry).start();
             TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
            append(wal, "f", 1, 3, -1, 0);
            long poison = append(wal, "f", 2, 3, 0, 300_000);
            append(wal, "f", 3, 3, -1, 0);
            Set<String> expected = ids("f", 1, 3, 3);
            expected.remove("f/2/0");
            audit.readUntil(expected, Duration.ofSeconds(60));
            assertTrue(audit.seen().keySet().containsAll(expected), "events after the poison record arrive");
            fw.whenConfirmed(poison).get(30, TimeUnit.SECONDS);
            assertEquals(1.0, registry.get("forwarder.dead.letters").tag("reason", "record_too_large")
                    .tag("destination", "file").counter().count());
        }
        DeadLetterFile.Contents file = DeadLetterFile.read(dir.resolve("dead-letters").resolve(DeadLetterFile.NAME));
        assertEquals(1, file.entries().size());
        DeadLetter d = file.entries().get(0);
        assertTrue(d.onlyInFile());
        assertEquals("f/2/0", d.eventId());
        assertTrue(d.error().contains("RecordTooLargeException") && d.error().contains("refused it too"), d.error());
        assertEquals(EventBatch.parseFrom(batch("f", 2, 3, 0, 300_000)).getEvents(0), Event.parseFrom(d.value()));
        assertTrue(d.headers().stream().anyMatch(h -> h.key().equals(EventRecords.EVENT_ID)), "original headers kept");
    }

    @Test
    void aTransientErrorNeverDeadLettersAndTheRecordArrivesOnceKafkaIsBack() throws Exception {
        String topic = "dl-transient";
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Path dir = tmp.resolve("forwarder");
        // short timeouts, so sends really fail (with timeouts) while the broker is down rather than wait it out
        ForwarderConfig cfg = config(topic, dir).withProducerProperties(Map.of("delivery.timeout.ms", "3000",
                "request.timeout.ms", "1000", "max.block.ms", "1000"));
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE);
             Forwarder fw = new Forwarder(cfg, wal, registry).start()) {
            fw.whenConfirmed(append(wal, "t", 1, 4, -1, 0)).get(60, TimeUnit.SECONDS); // topics exist, sending works
            long last = -1;
            broker.kill();
            try {
                for (long s = 2; s <= 6; s++) last = append(wal, "t", s, 4, -1, 0);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (registry.get("forwarder.send.errors").counter().count() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertTrue(registry.get("forwarder.send.errors").counter().count() >= 2, "sends failed meanwhile");
                assertFalse(fw.isConfirmed(last), "nothing is confirmed while the broker is down");
            } finally {
                broker.restart();
            }
            fw.whenConfirmedThrough(last).get(90, TimeUnit.SECONDS);
            try (TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
                audit.readUntil(ids("t", 1, 6, 4), Duration.ofSeconds(30));
                assertTrue(audit.seen().keySet().containsAll(ids("t", 1, 6, 4)), "every event arrives after the outage");
            }
            assertEquals(0.0, registry.find("forwarder.dead.letters").counters().stream()
                    .mapToDouble(c -> c.count()).sum(), "a timeout is never a dead letter");
        }
        assertEquals(0, DeadLetterFile.read(dir.resolve("dead-letters").resolve(DeadLetterFile.NAME)).entries().size());
    }

    // ---- SendErrors against the errors a real broker and producer give

    /** The error a plain idempotent acks=all producer gets for this record, or null when it was taken. */
    private static Throwable sendError(Map<String, String> producerProps, ProducerRecord<byte[], byte[]> record)
            throws Exception {
        try (KafkaProducer<byte[], byte[]> p = Producers.create(broker.bootstrap(), "classify", producerProps)) {
            try {
                p.send(record).get(30, TimeUnit.SECONDS);
                return null;
            } catch (ExecutionException e) {
                return e.getCause();
            }
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void recordTooLargeForTheProducerIsPermanent() throws Exception {
        createTopic("cls-producer", 1_000_000);
        Throwable e = sendError(Map.of("max.request.size", "100000"),
                new ProducerRecord<>("cls-producer", "k".getBytes(), random(150_000)));
        assertInstanceOf(RecordTooLargeException.class, e);
        assertEquals(SendErrors.Permanent.RECORD_TOO_LARGE, SendErrors.permanent(e, false));
    }

    @Test
    void recordTooLargeForTheTopicIsPermanent() throws Exception {
        createTopic("cls-topic", 50_000);
        Throwable e = sendError(Map.of(), new ProducerRecord<>("cls-topic", "k".getBytes(), random(80_000)));
        assertInstanceOf(RecordTooLargeException.class, e);
        assertEquals(SendErrors.Permanent.RECORD_TOO_LARGE, SendErrors.permanent(e, false));
    }

    @Test
    void aRecordTheTopicRejectsAsInvalidIsPermanent() throws Exception {
        // a compacted topic refuses a record without a key
        admin.createTopics(List.of(new NewTopic("cls-compacted", 1, (short) 1)
                .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
        Throwable e = sendError(Map.of(), new ProducerRecord<>("cls-compacted", null, "v".getBytes()));
        assertNotNull(e);
        assertEquals(SendErrors.Permanent.INVALID_RECORD, SendErrors.permanent(e, false), e.toString());
    }

    @Test
    void aTimestampTheTopicRefusesIsPermanent() throws Exception {
        admin.createTopics(List.of(new NewTopic("cls-time", 1, (short) 1)
                .configs(Map.of("message.timestamp.before.max.ms", "60000")))).all().get(30, TimeUnit.SECONDS);
        long anHourAgo = System.currentTimeMillis() - 3_600_000;
        Throwable e = sendError(Map.of(), new ProducerRecord<>("cls-time", null, anHourAgo, "k".getBytes(),
                "v".getBytes()));
        assertNotNull(e);
        assertEquals(SendErrors.Permanent.INVALID_RECORD, SendErrors.permanent(e, false), e.toString());
    }

    @Test
    void aMissingTopicIsTransientUnlessItCouldNotBeCreated() throws Exception {
        Throwable e = sendError(Map.of("max.block.ms", "1500"),
                new ProducerRecord<>("cls-missing", "k".getBytes(), "v".getBytes()));
        assertNotNull(e, "auto-creation is off, so the send must fail");
        assertNull(SendErrors.permanent(e, false), "the topic may yet be created: " + e);
        assertEquals(SendErrors.Permanent.UNKNOWN_TOPIC, SendErrors.permanent(e, true), e.toString());
    }

    @Test
    void anUnreachableBrokerIsTransient() throws Exception {
        try (KafkaProducer<byte[], byte[]> p = Producers.create("127.0.0.1:1", "classify",
                Map.of("max.block.ms", "1000", "delivery.timeout.ms", "2000", "request.timeout.ms", "1000"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> p.send(new ProducerRecord<>("any", "v".getBytes())).get(30, TimeUnit.SECONDS));
            assertNull(SendErrors.permanent(e.getCause(), false), e.getCause().toString());
        }
    }

    @Test
    void errorsNoBrokerHereCanProduceAreSortedByClass() {
        // topic authorization needs an authorizer and credentials (issue 13); serialization errors never come from
        // the byte-array serializers: the classes are what SendErrors sorts by
        assertEquals(SendErrors.Permanent.TOPIC_AUTHORIZATION,
                SendErrors.permanent(new TopicAuthorizationException(Set.of("t")), false));
        assertEquals(SendErrors.Permanent.SERIALIZATION,
                SendErrors.permanent(new SerializationException("bad"), false));
        assertNull(SendErrors.permanent(new NotEnoughReplicasException("isr"), true));
        assertNull(SendErrors.permanent(new NotLeaderOrFollowerException("moved"), true));
        assertEquals(SendErrors.Permanent.RECORD_TOO_LARGE, SendErrors.permanent(
                new org.apache.kafka.common.KafkaException("wrapped", new RecordTooLargeException("big")), false));
    }

    /**
     * Every record the topic holds: called once the forwarder has confirmed the records in question, so that every
     * copy it sent (a second one included) is already there.
     */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "dl-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(4 << 20));
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            assertTrue(TopicAudit.readToEnd(c, Duration.ofSeconds(30), out::add), "could not read " + topic + " to its end");
        }
        return out;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        var h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static void deleteRecursively(Path p) throws Exception {
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
