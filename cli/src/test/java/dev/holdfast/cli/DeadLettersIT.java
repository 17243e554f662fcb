package dev.holdfast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.holdfast.forwarder.deadletter.DeadLetter;
import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.broker.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code holdfast wal dead-letters} and {@code holdfast wal replay --dead-letters}, run as the built command in
 * its own process, on a dead-letter file written by {@link DeadLetterFile} in an intake data directory that holds
 * nothing else (no WAL), and a real Kafka broker.
 */
class DeadLettersIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String TOPIC = "holdfast.events";

    @TempDir
    Path tmp;

    private Path data;
    private Path file;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static DeadLetter inTopic() {
        return new DeadLetter(1_764_000_000_000L, 0x2_0000_0001L, "agent-7/12/0", TOPIC, "record_too_large",
                "org.apache.kafka.common.errors.RecordTooLargeException: too large",
                "topic holdfast.events.dlq partition 0 offset 3", utf8("agent-7"), utf8("first value"),
                List.of(new DeadLetter.Header("holdfast.event_id", utf8("agent-7/12/0")),
                        new DeadLetter.Header("holdfast.agent_id", utf8("agent-7"))));
    }

    /** Only in the file, and larger than the producer's default max.request.size (1 MiB). */
    private static DeadLetter onlyInFile() {
        byte[] value = new byte[1_500_000];
        new Random(1).nextBytes(value);
        return new DeadLetter(1_764_000_001_000L, 0x2_0000_0002L, "agent-8/3/1", TOPIC, "invalid_record",
                "org.apache.kafka.common.errors.InvalidRecordException: refused; dead-letter topic "
                        + "holdfast.events.dlq refused it too: authorization", DeadLetter.FILE, null, value,
                List.of(new DeadLetter.Header("holdfast.event_id", utf8("agent-8/3/1")),
                        new DeadLetter.Header("holdfast.priority", utf8("CRITICAL"))));
    }

    /** A data directory holding only forwarder/dead-letters/dead-letters.log with both letters. */
    private void writeLetters() throws Exception {
        data = tmp.resolve("data");
        try (DeadLetterFile f = DeadLetterFile.open(data.resolve("forwarder").resolve("dead-letters"))) {
            f.append(inTopic());
            f.append(onlyInFile());
            file = f.path();
        }
    }

    /** A run's exit code, stdout, and stderr lines (the log holds only this run's stderr). */
    private record Run(int exitCode, String stdout, List<String> stderr) {
    }

    private Run holdfast(String... args) throws Exception {
        Path log = Files.createTempFile(tmp, "stderr", ".log");
        HoldfastProcess.Result r = HoldfastProcess.run(log, TIMEOUT, args);
        return new Run(r.exitCode(), r.stdout(), Files.readAllLines(log).stream()
                .filter(l -> !l.startsWith("[") && !l.startsWith("SLF4J")).toList()); // Kafka client log lines
    }

    @Test
    void listsEveryDeadLetterWithWhyAndWhere() throws Exception {
        writeLetters();
        Run r = holdfast("wal", "dead-letters", "--data", data.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(3, lines.size(), r.stdout());
        assertTrue(lines.get(0).matches("TIME\\s+EVENT_ID\\s+REASON\\s+BYTES\\s+WHERE\\s+ERROR"), lines.get(0));
        assertTrue(lines.get(1).matches("2025-11-24T\\S+Z\\s+agent-7/12/0\\s+record_too_large\\s+11\\s+topic\\s+"
                + "org.apache.kafka.common.errors.RecordTooLargeException: too large"), lines.get(1));
        assertTrue(lines.get(2).matches("\\S+\\s+agent-8/3/1\\s+invalid_record\\s+1500000\\s+file\\s+.*refused it too.*"),
                lines.get(2));
        assertEquals(List.of("2 dead letters in " + file + " (1 only in this file)"), r.stderr());

        // the file itself, or the forwarder's directory, name the same list
        assertEquals(r.stdout(), holdfast("wal", "dead-letters", "--data", file.toString()).stdout());
        assertEquals(r.stdout(), holdfast("wal", "dead-letters", "--data", data.resolve("forwarder").toString()).stdout());
    }

    @Test
    void jsonGivesOneLinePerDeadLetter() throws Exception {
        writeLetters();
        Run r = holdfast("wal", "dead-letters", "--data", data.toString(), "--json");
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(2, lines.size(), r.stdout());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals("agent-7/12/0", first.get("event_id").asText());
        assertEquals(TOPIC, first.get("topic").asText());
        assertEquals("record_too_large", first.get("reason").asText());
        assertEquals("topic holdfast.events.dlq partition 0 offset 3", first.get("destination").asText());
        assertEquals(11, first.get("bytes").asInt());
        assertEquals(0x2_0000_0001L, first.get("wal_index").asLong());
        assertEquals("2025-11-24T16:00:00Z", first.get("time").asText());
        JsonNode second = json.readTree(lines.get(1));
        assertEquals("agent-8/3/1", second.get("event_id").asText());
        assertEquals("invalid_record", second.get("reason").asText());
        assertEquals("file", second.get("destination").asText());
        assertEquals(1_500_000, second.get("bytes").asInt());
        assertTrue(second.get("error").asText().contains("refused it too"));
        assertEquals(List.of("2 dead letters in " + file + " (1 only in this file)"), r.stderr());
    }

    @Test
    void aDamagedEntryIsSkippedAndNamedWithExit1() throws Exception {
        writeLetters();
        long firstEnd;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(20); // inside the first entry's body
            int b = raf.read();
            raf.seek(20);
            raf.write(b ^ 0xff);
        }
        firstEnd = DeadLetterFile.read(file).damage().get(0).length();
        Run r = holdfast("wal", "dead-letters", "--data", data.toString());
        assertEquals(1, r.exitCode(), r.toString());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(2, lines.size(), r.stdout());
        assertTrue(lines.get(1).contains("agent-8/3/1"), lines.get(1));
        assertEquals(List.of("1 dead letters in " + file + " (1 only in this file); 1 damaged places skipped: "
                + "at byte 0 (" + firstEnd + " bytes)"), r.stderr());
    }

    @Test
    void aWalRangeWithDeadLettersIsAUsageError() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("range"));
        Run r = holdfast("wal", "replay", "--dead-letters", "--data", empty.toString(), "--from", "5", "--dry-run");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(String.join("\n", r.stderr()).contains("--from/--to select WAL records"), r.toString());
    }

    @Test
    void aDataDirectoryWithoutDeadLettersListsNone() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Run r = holdfast("wal", "dead-letters", "--data", empty.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(1, r.stdout().lines().count(), "the header only: " + r.stdout());
        assertEquals(List.of("0 dead letters in " + empty.resolve("forwarder/dead-letters/dead-letters.log")
                + " (0 only in this file)"), r.stderr());
        assertTrue(!Files.exists(empty.resolve("forwarder")), "listing creates nothing");
    }

    @Test
    void aMissingDataDirectoryIsExit4InOneLine() throws Exception {
        Path missing = tmp.resolve("missing");
        for (String[] args : List.of(new String[]{"wal", "dead-letters", "--data", missing.toString()},
                new String[]{"wal", "replay", "--dead-letters", "--data", missing.toString(), "--dry-run"})) {
            Run r = holdfast(args);
            assertEquals(4, r.exitCode(), r.toString());
            assertEquals("", r.stdout());
            assertEquals(List.of("holdfast " + args[0] + " " + args[1] + ": " + missing + ": no such directory"),
                    r.stderr());
        }
    }

    @Test
    void replaySendsEveryDeadLetterAgainWithItsKeyValueAndHeaders() throws Exception {
        writeLetters();
        assertTrue(!Files.exists(data.resolve("wal")), "no WAL: --dead-letters needs none");
        Run dry = holdfast("wal", "replay", "--dead-letters", "--data", data.toString(), "--dry-run");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertEquals("would replay 2 dead letters from " + file, dry.stdout().trim());

        try (EmbeddedKafka kafka = new EmbeddedKafka(tmp.resolve("kafka"), "127.0.0.1", 0)) {
            kafka.start();
            String bootstrap = kafka.bootstrap();
            // the operator's fix for the letter too large before: topics that take it
            createTopics(bootstrap, TOPIC, "replayed");

            Run r = holdfast("wal", "replay", "--dead-letters", "--data", data.toString(), "--bootstrap", bootstrap);
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals("replayed 2 of 2 dead letters from " + file + " to " + bootstrap, r.stdout().trim());
            assertArrived(bootstrap, TOPIC);

            Run other = holdfast("wal", "replay", "--dead-letters", "--data", data.toString(), "--bootstrap",
                    bootstrap, "--topic", "replayed");
            assertEquals(0, other.exitCode(), other.toString());
            assertTrue(other.stdout().startsWith("replayed 2 of 2 dead letters"), other.stdout());
            assertArrived(bootstrap, "replayed");
        }
    }

    private static void createTopics(String bootstrap, String... names) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, 1, (short) 1).configs(Map.of("max.message.bytes",
                        Integer.toString(4 << 20))));
            }
            admin.createTopics(topics).all().get();
        }
    }

    /** Both letters in the topic, once each, byte for byte as the forwarder built them. */
    private static void assertArrived(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<String, ConsumerRecord<byte[], byte[]>> byId = new HashMap<>();
        int records = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (byId.size() < 2 && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    records++;
                    byId.put(new String(r.headers().lastHeader("holdfast.event_id").value(), StandardCharsets.UTF_8), r);
                }
            }
        }
        assertEquals(2, records, "each once in " + topic);
        for (DeadLetter d : List.of(inTopic(), onlyInFile())) {
            ConsumerRecord<byte[], byte[]> r = byId.get(d.eventId());
            assertNotNull(r, d.eventId() + " in " + topic);
            if (d.key() == null) {
                assertNull(r.key());
            } else {
                assertArrayEquals(d.key(), r.key());
            }
            assertArrayEquals(d.value(), r.value(), "value of " + d.eventId());
            Header[] headers = r.headers().toArray();
            assertEquals(d.headers().size(), headers.length);
            for (int i = 0; i < headers.length; i++) {
                assertEquals(d.headers().get(i).key(), headers[i].key());
                assertArrayEquals(d.headers().get(i).value(), headers[i].value());
            }
        }
    }
}
