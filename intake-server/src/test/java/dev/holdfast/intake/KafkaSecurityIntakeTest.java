package dev.holdfast.intake;

import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.broker.SecureListeners;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.testkit.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The intake's forwarder configured by forwarder.security alone (the YAML file, as an operator writes it) gets
 * batches into Kafka over SASL_SSL with SCRAM-SHA-512; at replicated durability an ack proves it. No log line of
 * the intake holds the password.
 */
class KafkaSecurityIntakeTest {
    private static final String PASSWORD = "intake-Secret-51e0c";

    @TempDir
    Path tmp;

    @Test
    void forwardsOverSaslSslWithScramFromTheConfigFile() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "intake-kafka-ca");
        TestPki.Issued server = pki.server("broker", "localhost", "127.0.0.1");
        SecureListeners listeners = SecureListeners.onFreePorts("127.0.0.1", pki.caCert(), server.cert(),
                server.key(), Map.of());
        PrintStream realErr = System.err;
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        try (KafkaBrokerProcess broker = new KafkaBrokerProcess(tmp.resolve("kafka"), "127.0.0.1", 0, null,
                listeners.brokerProperties(), List.of(), listeners.listeners())) {
            broker.start();
            SecureListeners.createScramUser(broker.bootstrap(), "intake", PASSWORD);
            Path pw = Files.writeString(tmp.resolve("kafka.password"), PASSWORD + "\n");
            Path yaml = Files.writeString(tmp.resolve("holdfast.yaml"), "nodeId: sec-node\n"
                    + "dataDir: " + tmp.resolve("data") + "\ndurability: replicated\n"
                    + "grpc: {host: 127.0.0.1, port: 0}\nhttp: {host: 127.0.0.1, port: 0}\n"
                    + "forwarder:\n  kafka: " + listeners.saslSslBootstrap() + "\n  topic: sec-intake\n"
                    + "  security:\n    protocol: SASL_SSL\n    tls: {ca: " + pki.caCert() + "}\n"
                    + "    sasl: {mechanism: SCRAM-SHA-512, username: intake, passwordFile: " + pw + "}\n");
            IntakeConfig cfg = IntakeConfig.load(yaml);
            assertFalse(cfg.toString().contains(PASSWORD));
            // slf4j-simple writes to whatever System.err is: every log line of the intake and its Kafka clients
            System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
            try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
                 TestClient c = new TestClient(intake.grpcPort());
                 TopicAudit audit = new TopicAudit(broker.bootstrap(), "sec-intake")) {
                for (int seq = 1; seq <= 5; seq++) {
                    BatchAck ack = c.blocking().withDeadlineAfter(60, TimeUnit.SECONDS)
                            .send(TestClient.batch("s", seq, 4, Priority.NORMAL, 10));
                    assertEquals(BatchAck.Status.PERSISTED, ack.getStatus(), "batch " + seq);
                }
                assertEquals(20, audit.readUntil(20, Duration.ofSeconds(30)));
            } finally {
                System.setErr(realErr);
            }
        }
        String logged = logs.toString(StandardCharsets.UTF_8);
        realErr.print(logged);
        assertTrue(logged.contains("SASL_SSL, SCRAM-SHA-512 as user intake"), "the forwarder says how it connects");
        assertFalse(logged.contains(PASSWORD), "the password was logged");
    }
}
