package dev.holdfast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.forwarder.deadletter.DeadLetter;
import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.broker.SecureListeners;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast wal replay --config FILE} (and {@code --dead-letters}) connect like the intake's forwarder: here
 * SASL/SCRAM-SHA-512 over TLS to a real broker; a wrong password fails in one line; no password is printed.
 */
class WalReplaySecurityTest {
    static final String PASSWORD = "replay-Secret-93f1";

    @TempDir
    static Path dir;
    static SecureListeners listeners;
    static KafkaBrokerProcess broker;
    static TestPki pki;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startBroker() throws Exception {
        pki = TestPki.create(dir.resolve("pki"), "replay-ca");
        TestPki.Issued server = pki.server("broker", "localhost", "127.0.0.1");
        listeners = SecureListeners.onFreePorts("127.0.0.1", pki.caCert(), server.cert(), server.key(), Map.of());
        broker = new KafkaBrokerProcess(dir.resolve("kafka"), "127.0.0.1", 0, null, listeners.brokerProperties(),
                List.of(), listeners.listeners());
        broker.start();
        SecureListeners.createScramUser(broker.bootstrap(), "replayer", PASSWORD);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    private Path config(String topic, String password) throws Exception {
        Path pw = Files.writeString(tmp.resolve("pw-" + System.nanoTime()), password + "\n");
        return Files.writeString(tmp.resolve("holdfast-" + System.nanoTime() + ".yaml"), "forwarder:\n"
                + "  kafka: " + listeners.saslSslBootstrap() + "\n  topic: " + topic + "\n  security:\n"
                + "    protocol: SASL_SSL\n    tls: {ca: " + pki.caCert() + "}\n"
                + "    sasl: {mechanism: SCRAM-SHA-512, username: replayer, passwordFile: " + pw + "}\n");
    }

    private Path walWith(int batches, int events) throws Exception {
        Path data = tmp.resolve("data");
        try (Wal wal = Wal.open(WalConfig.defaults(data.resolve("wal"), false), CommitListener.NONE)) {
            for (long seq = 1; seq <= batches; seq++) {
                EventBatch.Builder b = EventBatch.newBuilder().setAgentId("a").setBatchSeq(seq);
                for (int i = 0; i < events; i++) {
                    b.addEvents(Event.newBuilder().setTimeUnixNano(seq * 1000 + i)
                            .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/x/" + i)));
                }
                wal.append(new BatchHeader("a", seq, events, BatchPriority.NORMAL, System.currentTimeMillis() * 1_000_000L),
                        b.build().toByteArray()).get(30, TimeUnit.SECONDS);
            }
        }
        return data;
    }

    @Test
    void replaysAWalOverSaslSslWithTheIntakeConfig() throws Exception {
        Path data = walWith(3, 4);
        CliErrorsTest.Run r = CliErrorsTest.run("wal", "replay", "--data", data.toString(), "--config",
                config("replayed-sasl", PASSWORD).toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().startsWith("replayed to " + listeners.saslSslBootstrap() + " topic replayed-sasl 3 records,"
                + " 12 events"), r.stdout());
        assertFalse(r.toString().contains(PASSWORD), "the password was printed");
        try (TopicAudit audit = new TopicAudit(broker.bootstrap(), "replayed-sasl")) {
            assertEquals(12, audit.readUntil(12, Duration.ofSeconds(30)));
        }
    }

    @Test
    void aWrongPasswordFailsInOneLineNamingTheFailure() throws Exception {
        Path data = walWith(1, 2);
        CliErrorsTest.Run r = CliErrorsTest.run("wal", "replay", "--data", data.toString(), "--config",
                config("replayed-wrong", "wrong-" + PASSWORD).toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.reportLines().size(), r.toString());
        assertTrue(r.report().contains("Kafka authentication failed at " + listeners.saslSslBootstrap()
                + " (SASL_SSL SCRAM-SHA-512 as user replayer): SaslAuthenticationException: Authentication failed"),
                r.report());
        assertFalse(r.toString().contains(PASSWORD), "the password was printed");
    }

    @Test
    void replaysDeadLettersOverSaslSsl() throws Exception {
        Path data = tmp.resolve("letters");
        try (DeadLetterFile f = DeadLetterFile.open(data.resolve("forwarder").resolve("dead-letters"))) {
            f.append(new DeadLetter(1_764_000_000_000L, 1, "a/1/0", "letters-sasl", "record_too_large", "too large",
                    DeadLetter.FILE, "a".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8),
                    List.of(new DeadLetter.Header("holdfast.event_id", "a/1/0".getBytes(StandardCharsets.UTF_8)))));
        }
        CliErrorsTest.Run r = CliErrorsTest.run("wal", "replay", "--dead-letters", "--data", data.toString(),
                "--config", config("unused", PASSWORD).toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().startsWith("replayed 1 of 1 dead letters"), r.stdout());
        try (TopicAudit audit = new TopicAudit(broker.bootstrap(), "letters-sasl")) {
            assertEquals(1, audit.readUntil(1, Duration.ofSeconds(30)));
        }
    }
}
