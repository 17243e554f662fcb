package dev.holdfast.broker;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.holdfast.broker.KafkaClients.consume;
import static dev.holdfast.broker.KafkaClients.produce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What `holdfast kafka` does, in process: start and close twice on one data directory. */
class EmbeddedKafkaTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(90)
    void secondStartOnTheSameDirectoryReusesTheFormattedLog() throws Exception {
        Path dir = tmp.resolve("kafka");
        String clusterId;
        FileTime formattedAt;
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir, "127.0.0.1", 0)) {
            kafka.start();
            clusterId = kafka.clusterId();
            assertNotNull(clusterId);
            formattedAt = Files.getLastModifiedTime(dir.resolve("meta.properties"));
            try (KafkaProducer<String, String> producer = KafkaClients.producer(kafka.bootstrap())) {
                produce(producer, "t", 0, 10);
            }
        }

        try (EmbeddedKafka kafka = new EmbeddedKafka(dir, "127.0.0.1", 0)) {
            kafka.start();
            assertEquals(clusterId, kafka.clusterId(), "same cluster: not formatted again");
            assertEquals(formattedAt, Files.getLastModifiedTime(dir.resolve("meta.properties")));
            try (KafkaConsumer<String, String> consumer = KafkaClients.consumer(kafka.bootstrap(), "g")) {
                consumer.subscribe(List.of("t"));
                KafkaBrokerProcessTest.assertRecords(consume(consumer, 10, Duration.ofSeconds(20)), 0, 10);
            }
        }
    }

    @Test
    void extraPropertiesOverrideTheDefaults() {
        Map<String, String> p = EmbeddedKafka.brokerProperties(tmp, "127.0.0.1", 9092, 9093, Map.of("num.partitions", "4"));
        assertEquals("4", p.get("num.partitions"));
        assertEquals("1", p.get("offsets.topic.replication.factor"));
        assertEquals("1@127.0.0.1:9093", p.get("controller.quorum.voters"));
    }

    @Test
    void bootstrapBeforeStartIsAnError() {
        assertThrows(IllegalStateException.class, () -> new EmbeddedKafka(tmp, "127.0.0.1", 0).bootstrap());
    }
}
