package dev.holdfast.forwarder.kafka;

/**
 * The settings a topic the forwarder writes to should have, for {@link TopicManager#ensure}.
 *
 * <p>{@code 0} for {@code replicationFactor}, {@code minInsyncReplicas} or {@code maxMessageBytes} means "default"
 * ({@link #DEFAULT}); negative values are refused:
 * <ul>
 *   <li>replication factor: {@code min(3, brokers in the cluster)} (from describeCluster);</li>
 *   <li>{@code min.insync.replicas}: 2 when the replication factor is 3 or more, else 1 (set on the topic);</li>
 *   <li>{@code max.message.bytes}: not set on the topic, so the broker's {@code message.max.bytes} applies.</li>
 * </ul>
 *
 * @param name               the topic's name
 * @param partitions         partition count, at least 1
 * @param replicationFactor  replicas per partition, or 0 for the default
 * @param minInsyncReplicas  the topic's {@code min.insync.replicas}, or 0 for the default
 * @param maxMessageBytes    the topic's {@code max.message.bytes} (the largest record batch the broker accepts), or 0
 *                           to leave the broker default
 */
public record TopicSpec(String name, int partitions, int replicationFactor, int minInsyncReplicas, int maxMessageBytes) {
    /** The value that means "default" for replicationFactor, minInsyncReplicas and maxMessageBytes. */
    public static final int DEFAULT = 0;
    /** The replication factor of a default spec is the broker count, up to this. */
    public static final int DEFAULT_MAX_REPLICATION_FACTOR = 3;

    public TopicSpec {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be empty");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + ": partitions must be at least 1, was " + partitions);
        }
        if (replicationFactor < 0 || replicationFactor > Short.MAX_VALUE) {
            throw new IllegalArgumentException("topic " + name + ": replication factor must be 1.." + Short.MAX_VALUE
                    + ", or 0 for the default, was " + replicationFactor);
        }
        if (minInsyncReplicas < 0) {
            throw new IllegalArgumentException("topic " + name + ": min.insync.replicas must be at least 1, or 0 for "
                    + "the default, was " + minInsyncReplicas);
        }
        if (maxMessageBytes < 0) {
            throw new IllegalArgumentException("topic " + name + ": max.message.bytes must be at least 1, or 0 for "
                    + "the broker default, was " + maxMessageBytes);
        }
    }

    /** A topic with {@code partitions} partitions and every other setting at its default. */
    public static TopicSpec withDefaults(String name, int partitions) {
        return new TopicSpec(name, partitions, DEFAULT, DEFAULT, DEFAULT);
    }

    /** The replication factor to create the topic with in a cluster of {@code brokers} brokers. */
    public int effectiveReplicationFactor(int brokers) {
        return replicationFactor != DEFAULT ? replicationFactor
                : Math.max(1, Math.min(DEFAULT_MAX_REPLICATION_FACTOR, brokers));
    }

    /** The {@code min.insync.replicas} wanted for a topic whose replication factor is {@code replicationFactor}. */
    public int effectiveMinInsyncReplicas(int replicationFactor) {
        return minInsyncReplicas != DEFAULT ? minInsyncReplicas : defaultMinInsyncReplicas(replicationFactor);
    }

    /** 2 when there are 3 or more replicas (one may be down and a write is still on two), else 1. */
    public static int defaultMinInsyncReplicas(int replicationFactor) {
        return replicationFactor >= 3 ? 2 : 1;
    }
}
