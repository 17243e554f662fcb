package dev.holdfast.forwarder;

import dev.holdfast.forwarder.kafka.KafkaClientSecurity;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * @param bootstrap           Kafka bootstrap servers
 * @param topic               destination topic
 * @param nodeId              this intake node, written into every record's headers
 * @param dataDir             the forwarder's directory: RocksDB progress and the dead-letter file
 * @param maxInflightBytes    payload bytes sent and not yet confirmed, per lane
 * @param backlogMinShare     share of maxInflightBytes the backlog lane always gets, however busy the live lane is
 * @param liveMaxLag          a live lane further behind than this jumps to the head and leaves the gap to the backlog
 * @param retention           a fully forwarded WAL segment is deleted once its last write is older than this
 * @param progressInterval    how often confirmed progress is saved (the resend window after a crash)
 * @param producerProperties  passed to the Kafka producer as given, overriding Holdfast's defaults
 * @param deadLetterTopic     where events Kafka refuses for good go (default {@code <topic>.dlq})
 * @param topicSettings       how the forwarder creates its topics
 * @param encoding            record values as the agent's protobuf bytes or as JSON
 * @param security            TLS and SASL for every Kafka client of the forwarder (secrets already read; its
 *                            toString shows none)
 * @param otlp                the topics and encoding of OTLP data
 */
public record ForwarderConfig(String bootstrap, String topic, String nodeId, Path dataDir, long maxInflightBytes,
                              double backlogMinShare, Duration liveMaxLag, Duration retention,
                              Duration progressInterval, Map<String, String> producerProperties,
                              String deadLetterTopic, TopicSettings topicSettings, ValueEncoding encoding,
                              KafkaClientSecurity security, OtlpTopics otlp) {

    /** With the default OTLP topics. */
    public ForwarderConfig(String bootstrap, String topic, String nodeId, Path dataDir, long maxInflightBytes,
                           double backlogMinShare, Duration liveMaxLag, Duration retention,
                           Duration progressInterval, Map<String, String> producerProperties,
                           String deadLetterTopic, TopicSettings topicSettings, ValueEncoding encoding,
                           KafkaClientSecurity security) {
        this(bootstrap, topic, nodeId, dataDir, maxInflightBytes, backlogMinShare, liveMaxLag, retention,
                progressInterval, producerProperties, deadLetterTopic, topicSettings, encoding, security,
                OtlpTopics.DEFAULTS);
    }

    /**
     * How topics are created when missing (an existing topic is used as it is, with a warning for each difference).
     * 0 means the default: replication factor min(3, brokers), {@code min.insync.replicas} 2 when the replication
     * factor is 3 or more (else 1), {@code max.message.bytes} the broker's.
     */
    public record TopicSettings(int partitions, int replicationFactor, int minInsyncReplicas, int maxMessageBytes) {
        public static final TopicSettings DEFAULTS = new TopicSettings(3, 0, 0, 0);
    }

    public ForwarderConfig {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(topicSettings, "topicSettings");
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(otlp, "otlp");
        producerProperties = Map.copyOf(producerProperties);
        if (deadLetterTopic == null || deadLetterTopic.isEmpty()) {
            deadLetterTopic = topic + ".dlq";
        }
        if (!(backlogMinShare > 0 && backlogMinShare < 1)) {
            throw new IllegalArgumentException("backlogMinShare must be in (0, 1)");
        }
        if (deadLetterTopic.equals(topic)) {
            throw new IllegalArgumentException("the dead-letter topic must differ from the topic " + topic);
        }
    }

    public static ForwarderConfig defaults(String bootstrap, String topic, String nodeId, Path dataDir) {
        return new ForwarderConfig(bootstrap, topic, nodeId, dataDir, 8L << 20, 0.2, Duration.ofSeconds(2),
                Duration.ofHours(1), Duration.ofMillis(50), Map.of(), null, TopicSettings.DEFAULTS,
                ValueEncoding.PROTOBUF, KafkaClientSecurity.NONE);
    }

    /** RocksDB's directory for confirmed progress. */
    public Path progressDir() {
        return dataDir.resolve("progress");
    }

    /** The dead-letter file's directory. */
    public Path deadLetterDir() {
        return dataDir.resolve("dead-letters");
    }

    public ForwarderConfig withRetention(Duration newRetention) {
        return new ForwarderConfig(bootstrap, topic, nodeId, dataDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                newRetention, progressInterval, producerProperties, deadLetterTopic, topicSettings, encoding, security,
                otlp);
    }

    public ForwarderConfig withProducerProperties(Map<String, String> props) {
        return new ForwarderConfig(bootstrap, topic, nodeId, dataDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                retention, progressInterval, props, deadLetterTopic, topicSettings, encoding, security,
                otlp);
    }

    public ForwarderConfig withTopicSettings(TopicSettings settings) {
        return new ForwarderConfig(bootstrap, topic, nodeId, dataDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                retention, progressInterval, producerProperties, deadLetterTopic, settings, encoding, security, otlp);
    }

    public ForwarderConfig withSecurity(KafkaClientSecurity newSecurity) {
        return new ForwarderConfig(bootstrap, topic, nodeId, dataDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                retention, progressInterval, producerProperties, deadLetterTopic, topicSettings, encoding, newSecurity,
                otlp);
    }
}
