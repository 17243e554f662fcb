package dev.holdfast.broker;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.holdfast.broker.KafkaClients.consume;
import static dev.holdfast.broker.KafkaClients.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broker in its own process survives SIGKILL: acknowledged records, committed offsets and clients carry on. */
class KafkaBrokerProcessTest {
    private static final String TOPIC = "holdfast-events";
    private static final int N = 1000;

    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void acknowledgedRecordsSurviveSigkillAndClientsReconnectAfterRestart() throws Exception {
        try (KafkaBrokerProcess broker = new KafkaBrokerProcess(tmp.resolve("kafka"), 0)) {
            broker.start();
            String bootstrap = broker.bootstrap();
            System.out.println("first start: " + broker.lastStartTime().toMillis() + " ms, " + bootstrap);

            try (KafkaProducer<String, String> producer = KafkaClients.producer(bootstrap);
                 KafkaConsumer<String, String> consumer = KafkaClients.consumer(bootstrap, "g1")) {
                consumer.subscribe(List.of(TOPIC));
                produce(producer, TOPIC, 0, N); // the topic is created on first use
                assertRecords(consume(consumer, N, Duration.ofSeconds(30)), 0, N);

                broker.kill();
                assertFalse(broker.alive());
                broker.restart();
                System.out.println("restart after SIGKILL: " + broker.lastStartTime().toMillis() + " ms");
                assertEquals(bootstrap, broker.bootstrap(), "same address, so the clients can reconnect");

                // the same producer and consumer instances carry on; the consumer resumes at its committed offset
                produce(producer, TOPIC, N, 2 * N);
                assertRecords(consume(consumer, N, Duration.ofSeconds(30)), N, 2 * N);
            }
            // and everything written before the crash is still in the log, exactly once
            try (KafkaConsumer<String, String> fresh = KafkaClients.consumer(bootstrap, "g2")) {
                fresh.subscribe(List.of(TOPIC));
                assertRecords(consume(fresh, 2 * N, Duration.ofSeconds(30)), 0, 2 * N);
            }
            assertEquals(143, broker.stop(), "terminated by SIGTERM");
            assertTrue(Files.readString(broker.log()).strip().endsWith(EmbeddedKafka.STOPPED_LINE),
                    "the broker closed cleanly before the JVM exited");
        }
    }

    @Test
    @Timeout(90)
    void aBrokerThatCannotStartFailsWithItsLog() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             KafkaBrokerProcess broker = new KafkaBrokerProcess(tmp.resolve("kafka"), taken.getLocalPort())) {
            IOException e = assertThrows(IOException.class, broker::start);
            assertTrue(e.getMessage().contains("exited with 1"), e.getMessage());
            assertTrue(e.getMessage().contains("Address already in use"), "the child's log is in the message");
            assertFalse(broker.alive());
        }
    }

    /** Exactly the records key-i/value-i for i in [from, to), in order (one partition). */
    static void assertRecords(List<ConsumerRecord<String, String>> records, int from, int to) {
        assertEquals(to - from, records.size(), "record count");
        for (int i = from; i < to; i++) {
            ConsumerRecord<String, String> r = records.get(i - from);
            assertEquals("key-" + i, r.key());
            assertEquals("value-" + i, r.value());
            assertEquals(i, r.offset());
        }
    }

    @Test
    void theBrokersOwnCollectorReplacesTheParentsSoTheJvmStarts() {
        for (String gc : new String[]{"-XX:+UseSerialGC", "-XX:+UseZGC", "-XX:+UseG1GC", "-XX:-UseParallelGC"}) {
            assertTrue(KafkaBrokerProcess.selectsCollector(gc), gc);
        }
        for (String other : new String[]{"-XX:+UseGCOverheadLimit", "-XX:MarkStackSize=1M", "-Xmx384m",
                "-XX:+UseStringDeduplication", "-XX:+UseDynamicNumberOfGCThreads"}) {
            assertFalse(KafkaBrokerProcess.selectsCollector(other), other);
        }
    }
}
