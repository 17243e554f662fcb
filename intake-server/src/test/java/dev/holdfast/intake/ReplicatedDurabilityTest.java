package dev.holdfast.intake;

import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/** At replicated durability an ack means Kafka (acks=all) has every event of the batch. */
class ReplicatedDurabilityTest {
    @TempDir
    Path tmp;

    @Test
    void acknowledgesOnlyWhatKafkaConfirmed() throws Exception {
        try (KafkaBrokerProcess broker = new KafkaBrokerProcess(tmp.resolve("kafka"), 0)) {
            broker.start();
            IntakeConfig d = IntakeConfig.defaults();
            IntakeConfig.Forwarding f = d.forwarder();
            IntakeConfig cfg = new IntakeConfig("rep-node", tmp.resolve("data"), Durability.REPLICATED,
                    new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), d.limits(),
                    d.wal(), f.withKafka(broker.bootstrap(), "rep"));
            try (IntakeServer server = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
                 TestClient c = new TestClient(server.grpcPort());
                 TopicAudit audit = new TopicAudit(broker.bootstrap(), "rep")) {
                for (int seq = 1; seq <= 20; seq++) {
                    BatchAck ack = c.blocking().withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS)
                            .send(TestClient.batch("r", seq, 5, Priority.NORMAL, 10));
                    assertEquals(BatchAck.Status.PERSISTED, ack.getStatus());
                    // the ack came after Kafka's confirmation, so a consumer must be able to see all of it
                    assertEquals(seq * 5, audit.readUntil(seq * 5, Duration.ofSeconds(30)), "batch " + seq);
                }
                // a resend is answered DUPLICATE, and only once its original is confirmed (it is)
                assertEquals(BatchAck.Status.DUPLICATE, c.blocking().send(TestClient.batch("r", 3, 5, Priority.NORMAL, 10)).getStatus());

                // with Kafka down, nothing is acknowledged: the stream's ack waits
                broker.kill();
                TestClient.Stream s = c.stream();
                s.hello("r");
                s.send(TestClient.batch("r", 21, 5, Priority.NORMAL, 10));
                Object early = s.received.poll(4, java.util.concurrent.TimeUnit.SECONDS);
                assertNull(early, "acknowledged while Kafka was down: " + early);
                broker.restart();
                Object late = s.received.poll(60, java.util.concurrent.TimeUnit.SECONDS);
                assertNotNull(late, "no ack after Kafka came back");
                assertEquals(BatchAck.Status.PERSISTED, ((dev.holdfast.protocol.v1.IntakeMessage) late).getAck().getStatus());
                assertEquals(105, audit.readUntil(105, Duration.ofSeconds(30)));
            }
        }
    }
}
