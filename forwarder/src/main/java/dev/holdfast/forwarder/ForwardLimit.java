package dev.holdfast.forwarder;

import org.apache.kafka.clients.producer.ProducerConfig;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The largest event Kafka will take from this forwarder, so the intake can refuse at the door what could never be
 * forwarded, instead of acknowledging it and then failing it forever. Kafka checks a record twice: the producer
 * against {@code max.request.size} (the record uncompressed, with its key and headers), the broker against the
 * topic's {@code max.message.bytes} (the whole record batch, compressed). An event must pass both with the headers
 * this forwarder adds ({@link EventRecords}: the agent id three times, the node id once, ~300 bytes besides) and
 * with compression's worst-case growth of incompressible data (LZ4: 1/255 plus a frame).
 */
public final class ForwardLimit {
    /** Kafka's default {@code max.request.size}. */
    public static final int DEFAULT_MAX_REQUEST_SIZE = 1_048_576;
    /** Record batch header, record framing and the fixed part of Holdfast's headers, rounded up. */
    static final int FIXED_OVERHEAD = 512;

    private final int maxRequestSize;
    private final int nodeIdBytes;
    private final ValueEncoding encoding;
    private final String topic;
    private volatile int topicMaxMessageBytes = -1;

    public ForwardLimit(Map<String, String> producerProperties, String nodeId, String topic, ValueEncoding encoding) {
        this.maxRequestSize = maxRequestSize(producerProperties);
        this.nodeIdBytes = nodeId.getBytes(StandardCharsets.UTF_8).length;
        this.topic = topic;
        this.encoding = encoding;
    }

    /**
     * The producer's {@code max.request.size} from the forwarder's producer properties (Kafka's default when unset).
     *
     * @throws IllegalArgumentException naming the key when the value is not a positive integer
     */
    public static int maxRequestSize(Map<String, String> producerProperties) {
        String v = producerProperties.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (v == null) {
            return DEFAULT_MAX_REQUEST_SIZE;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException("forwarder.producer.max.request.size: \"" + v
                + "\" is not a positive number of bytes");
    }

    /** The topic's {@code max.message.bytes}, once the forwarder has read it from Kafka. */
    public void topicMaxMessageBytes(int bytes) {
        topicMaxMessageBytes = bytes;
    }

    /** The largest event (its protobuf bytes as sent by the agent) that Kafka will take from this agent. */
    public int maxEventBytes(int agentIdBytes) {
        long fits = Math.min(producerFits(agentIdBytes), topicFits(agentIdBytes, topicMaxMessageBytes));
        // the JSON mapping writes a control character in a string as \\u00XX: six bytes for one
        return (int) Math.max(0, encoding == ValueEncoding.JSON ? fits / 6 : fits);
    }

    private long overhead(int agentIdBytes) {
        return FIXED_OVERHEAD + 3L * agentIdBytes + nodeIdBytes;
    }

    private long producerFits(int agentIdBytes) {
        return maxRequestSize - overhead(agentIdBytes);
    }

    /** Long.MAX_VALUE while the topic's limit is unknown. */
    private long topicFits(int agentIdBytes, int topicLimit) {
        if (topicLimit <= 0) {
            return Long.MAX_VALUE;
        }
        long compressed = topicLimit - overhead(agentIdBytes) - 64;
        return compressed - compressed / 256;
    }

    /** Says where the limit comes from, with the keys to change it: for the intake's INVALID message. */
    public String explain() {
        return explain(0);
    }

    /**
     * Says where the limit for this agent comes from: the topic's {@code max.message.bytes} whenever it is what
     * binds (Kafka's default, 1048588, binds before the producer's default 1048576 once compression's growth is
     * counted), else the producer's {@code max.request.size} alone, since raising the topic's would not help.
     */
    public String explain(int agentIdBytes) {
        int topicLimit = topicMaxMessageBytes;
        String producer = "forwarder.producer max.request.size=" + maxRequestSize;
        String why = topicFits(agentIdBytes, topicLimit) < producerFits(agentIdBytes)
                ? "topic " + topic + " max.message.bytes=" + topicLimit + " (forwarder.topicSettings.maxMessageBytes,"
                + " or the topic's own config), " + producer
                : producer;
        return why + ", minus record headers" + (encoding == ValueEncoding.JSON ? ", divided by 6 for the json encoding" : "");
    }
}
