package dev.holdfast.forwarder;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * @param bootstrap           Kafka bootstrap servers
 * @param topic               destination topic
 * @param nodeId              this intake node, written into every record's headers
 * @param progressDir         RocksDB directory for confirmed progress
 * @param maxInflightBytes    payload bytes sent and not yet confirmed, per lane
 * @param backlogMinShare     share of maxInflightBytes the backlog lane always gets, however busy the live lane is
 * @param liveMaxLag          a live lane further behind than this jumps to the head and leaves the gap to the backlog
 * @param retention           a fully forwarded WAL segment is deleted once its last write is older than this
 * @param progressInterval    how often confirmed progress is saved (the resend window after a crash)
 * @param producerProperties  passed to the Kafka producer as given, overriding Holdfast's defaults
 */
public record ForwarderConfig(String bootstrap, String topic, String nodeId, Path progressDir, long maxInflightBytes,
                              double backlogMinShare, Duration liveMaxLag, Duration retention,
                              Duration progressInterval, Map<String, String> producerProperties) {
    public ForwarderConfig {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(progressDir, "progressDir");
        producerProperties = Map.copyOf(producerProperties);
        if (!(backlogMinShare > 0 && backlogMinShare < 1)) {
            throw new IllegalArgumentException("backlogMinShare must be in (0, 1)");
        }
    }

    public static ForwarderConfig defaults(String bootstrap, String topic, String nodeId, Path progressDir) {
        return new ForwarderConfig(bootstrap, topic, nodeId, progressDir, 8L << 20, 0.2, Duration.ofSeconds(2),
                Duration.ofHours(1), Duration.ofMillis(50), Map.of());
    }

    public ForwarderConfig withRetention(Duration newRetention) {
        return new ForwarderConfig(bootstrap, topic, nodeId, progressDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                newRetention, progressInterval, producerProperties);
    }

    public ForwarderConfig withProducerProperties(Map<String, String> props) {
        return new ForwarderConfig(bootstrap, topic, nodeId, progressDir, maxInflightBytes, backlogMinShare, liveMaxLag,
                retention, progressInterval, props);
    }
}
