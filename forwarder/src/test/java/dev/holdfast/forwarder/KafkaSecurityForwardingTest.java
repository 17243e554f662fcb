package dev.holdfast.forwarder;

import dev.holdfast.wal.ScanProgress;
import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import dev.holdfast.forwarder.kafka.KafkaSecurity;
import dev.holdfast.broker.SecureListeners;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalInspector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The forwarder and WAL replay over TLS (with client certificates), SASL/SCRAM-SHA-512 and SASL/PLAIN, against a
 * real broker (its own process) with those listeners; a wrong password dead-letters nothing; no password is ever
 * logged.
 */
class KafkaSecurityForwardingTest {
    static final String SCRAM_PASSWORD = "scram-Secret-4c1d9e";
    static final String PLAIN_PASSWORD = "plain-Secret-77ab0f";
    /** How long a refused forwarder runs on once it has said so (the forwarder retries within a second or two). */
    static final Duration AFTER_REFUSAL = Duration.ofSeconds(3);

    @TempDir
    static Path dir;
    static TestPki pki;
    static TestPki.Issued client;
    static SecureListeners listeners;
    static KafkaBrokerProcess broker;

    @TempDir
    Path tmp;
    private PrintStream originalErr;
    private PrintStream originalOut;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    @BeforeAll
    static void startBroker() throws Exception {
        pki = TestPki.create(dir.resolve("pki"), "kafka-test-ca");
        TestPki.Issued server = pki.server("broker", "localhost", "127.0.0.1");
        client = pki.client("holdfast");
        listeners = SecureListeners.onFreePorts("127.0.0.1", pki.caCert(), server.cert(), server.key(),
                Map.of("holdfast", PLAIN_PASSWORD));
        broker = new KafkaBrokerProcess(dir.resolve("kafka"), "127.0.0.1", 0, null, listeners.brokerProperties(),
                List.of(), listeners.listeners());
        broker.start();
        SecureListeners.createScramUser(broker.bootstrap(), "holdfast", SCRAM_PASSWORD);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    /** slf4j-simple writes to whatever System.err is at the time: a tee catches every log line of this JVM. */
    @BeforeEach
    void captureLogs() {
        originalErr = System.err;
        originalOut = System.out;
        System.setErr(new PrintStream(tee(originalErr), true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(tee(originalOut), true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreLogs() {
        System.setErr(originalErr);
        System.setOut(originalOut);
        String logs = logs();
        assertFalse(logs.contains(SCRAM_PASSWORD) || logs.contains(PLAIN_PASSWORD), "a password was logged");
    }

    private OutputStream tee(PrintStream to) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                to.write(b);
                synchronized (captured) {
                    captured.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                to.write(b, off, len);
                synchronized (captured) {
                    captured.write(b, off, len);
                }
            }
        };
    }

    private String logs() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    private KafkaClientSecurity mtls() {
        return new KafkaSecurity(KafkaSecurity.Protocol.SSL,
                new KafkaSecurity.Tls(pki.caCert(), client.cert(), client.key()), null)
                .resolve("forwarder.security", System::getenv);
    }

    private KafkaClientSecurity scram(String password) throws Exception {
        Path file = tmp.resolve("kafka-password-" + System.nanoTime());
        Files.writeString(file, password + "\n");
        return new KafkaSecurity(KafkaSecurity.Protocol.SASL_SSL, new KafkaSecurity.Tls(pki.caCert(), null, null),
                new KafkaSecurity.Sasl(KafkaSecurity.Mechanism.SCRAM_SHA_512, "holdfast", file, null))
                .resolve("forwarder.security", System::getenv);
    }

    private KafkaClientSecurity plain() {
        return new KafkaSecurity(KafkaSecurity.Protocol.SASL_PLAINTEXT, null,
                new KafkaSecurity.Sasl(KafkaSecurity.Mechanism.PLAIN, "holdfast", null, "KAFKA_PASSWORD"))
                .resolve("forwarder.security", name -> name.equals("KAFKA_PASSWORD") ? PLAIN_PASSWORD : null);
    }

    private static void append(Wal wal, String agent, int batches, int events) throws Exception {
        for (long seq = 1; seq <= batches; seq++) {
            CompletableFuture<AppendResult> f = wal.append(new BatchHeader(agent, seq, events, BatchPriority.NORMAL,
                    System.currentTimeMillis() * 1_000_000L), ForwarderTest.batch(agent, seq, events));
            f.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Waits until the forwarder has said {@code times} times in all that Kafka refused its credentials, then lets it
     * run {@link #AFTER_REFUSAL} longer: time enough for a refusal taken for a permanent error to dead-letter
     * something or mark a record forwarded.
     */
    private void awaitRefusal(String line, int times) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (refusals(line) < times) {
            assertTrue(System.nanoTime() < deadline, "not said " + times + " times within 30 s: " + line);
            Thread.sleep(20);
        }
        Thread.sleep(AFTER_REFUSAL.toMillis());
    }

    private long refusals(String line) {
        return logs().lines().filter(l -> l.contains(line)).count();
    }

    /** Appends 20 batches of 5 events, forwards them with {@code security} and reads all 100 back. */
    private void forwards(String topic, String bootstrap, KafkaClientSecurity security) throws Exception {
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            append(wal, topic, 20, 5);
            ForwarderConfig config = ForwarderConfig.defaults(bootstrap, topic, "node-s", tmp.resolve("fw"))
                    .withSecurity(security);
            try (Forwarder fw = new Forwarder(config, wal, new SimpleMeterRegistry()).start();
                 TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
                fw.whenConfirmedThrough(wal.lastIndex()).get(60, TimeUnit.SECONDS);
                assertEquals(100, audit.readUntil(100, Duration.ofSeconds(30)));
            }
        }
    }

    @Test
    void forwardsOverMutualTls() throws Exception {
        forwards("sec-mtls", listeners.sslBootstrap(), mtls());
    }

    @Test
    void forwardsOverSaslSslWithScram() throws Exception {
        KafkaClientSecurity scram = scram(SCRAM_PASSWORD);
        forwards("sec-scram", listeners.saslSslBootstrap(), scram);
        // what Kafka logs of a client's configuration at start: the JAAS configuration is [hidden]
        var props = Producers.properties(listeners.saslSslBootstrap(), "c", Map.of(), scram);
        props.put("key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        props.put("value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        String config = new ProducerConfig(props).values().toString();
        assertTrue(config.contains("sasl.jaas.config=[hidden]"), config);
        assertFalse(config.contains(SCRAM_PASSWORD));
        assertFalse(scram.toString().contains(SCRAM_PASSWORD), scram.toString());
    }

    @Test
    void forwardsOverSaslPlaintextWithPlain() throws Exception {
        forwards("sec-plain", listeners.saslPlaintextBootstrap(), plain());
    }

    @Test
    void aWrongPasswordDeadLettersNothingAndTheRecordsGoOnceItIsFixed() throws Exception {
        String topic = "sec-wrong";
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            append(wal, topic, 10, 5);
            ForwarderConfig config = ForwarderConfig.defaults(listeners.saslSslBootstrap(), topic, "node-s",
                    tmp.resolve("fw"));
            String refused = "Kafka authentication failed at " + listeners.saslSslBootstrap()
                    + " (SASL_SSL SCRAM-SHA-512 as user holdfast)";
            try (Forwarder fw = new Forwarder(config.withSecurity(scram("not-the-password")), wal,
                    new SimpleMeterRegistry()).start()) {
                awaitRefusal(refused, 1);
                assertFalse(fw.isConfirmed(wal.lastIndex()), "nothing can have been forwarded");
            }
            Path deadLetters = config.deadLetterDir().resolve(DeadLetterFile.NAME);
            assertTrue(!Files.exists(deadLetters) || DeadLetterFile.read(deadLetters).entries().isEmpty(),
                    "nothing may be dead-lettered for a wrong password");
            String logs = logs();
            assertEquals(1, refusals(refused), logs);
            assertFalse(logs.contains("not-the-password"));

            // fixed and restarted: everything that waited is forwarded
            try (Forwarder fw = new Forwarder(config.withSecurity(scram(SCRAM_PASSWORD)), wal,
                    new SimpleMeterRegistry()).start();
                 TopicAudit audit = new TopicAudit(listeners.saslSslBootstrap(), topic, scram(SCRAM_PASSWORD))) {
                fw.whenConfirmedThrough(wal.lastIndex()).get(60, TimeUnit.SECONDS);
                assertEquals(50, audit.readUntil(50, Duration.ofSeconds(30)));
            }
        }
    }

    /** A failed TLS handshake is an authentication failure too: nothing is forwarded, nothing dead-lettered. */
    @Test
    void aBrokerCertificateFromAnotherCaOrNoClientCertificateForwardsAndDeadLettersNothing() throws Exception {
        TestPki otherCa = TestPki.create(tmp.resolve("other-pki"), "other-ca");
        KafkaClientSecurity wrongCa = new KafkaSecurity(KafkaSecurity.Protocol.SSL,
                new KafkaSecurity.Tls(otherCa.caCert(), client.cert(), client.key()), null)
                .resolve("forwarder.security", System::getenv);
        KafkaClientSecurity noClientCert = new KafkaSecurity(KafkaSecurity.Protocol.SSL,
                new KafkaSecurity.Tls(pki.caCert(), null, null), null).resolve("forwarder.security", System::getenv);
        String refusedTls = "Kafka authentication failed at " + listeners.sslBootstrap() + " (SSL)";
        int topic = 0;
        for (KafkaClientSecurity refused : List.of(wrongCa, noClientCert)) {
            try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal-" + topic), false), CommitListener.NONE)) {
                append(wal, "a", 3, 2);
                ForwarderConfig config = ForwarderConfig.defaults(listeners.sslBootstrap(), "sec-tls-" + topic++,
                        "node-s", tmp.resolve("fw-" + topic)).withSecurity(refused);
                try (Forwarder fw = new Forwarder(config, wal, new SimpleMeterRegistry()).start()) {
                    awaitRefusal(refusedTls, topic);
                    assertFalse(fw.isConfirmed(wal.lastIndex()), refused + ": nothing can have been forwarded");
                }
                Path deadLetters = config.deadLetterDir().resolve(DeadLetterFile.NAME);
                assertTrue(!Files.exists(deadLetters) || DeadLetterFile.read(deadLetters).entries().isEmpty(),
                        refused + ": nothing may be dead-lettered for a failed handshake");
            }
        }
        assertEquals(2, refusals(refusedTls), logs());
    }

    @Test
    void walReplayGoesOverMutualTls() throws Exception {
        String topic = "sec-replay";
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            append(wal, topic, 4, 5);
        }
        try (WalInspector wal = WalInspector.open(tmp.resolve("wal"));
             var producer = Producers.create(listeners.sslBootstrap(), "replay", Map.of(), mtls());
             TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
            WalReplay.Result r = WalReplay.run(wal, WalReplay.Range.ALL, new EventRecords(topic, "replay"), producer,
                    ScanProgress.NONE);
            assertEquals(20, r.events());
            assertEquals(20, audit.readUntil(20, Duration.ofSeconds(30)));
        }
    }
}
