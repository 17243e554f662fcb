package dev.holdfast.forwarder;

import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Properties;

/** The one place that decides how Holdfast's Kafka producers are configured. */
public final class Producers {
    private Producers() {
    }

    /**
     * Idempotent, acks=all (required for at-least-once without reordering per partition), compressed, and batched
     * for throughput. Delivery is retried for up to 30 s; past that a send fails, the circuit breaker counts it and
     * the record is sent again later. Anything in {@code overrides} wins.
     */
    public static Properties properties(String bootstrap, String clientId, java.util.Map<String, String> overrides) {
        return properties(bootstrap, clientId, overrides, KafkaClientSecurity.NONE);
    }

    /** As {@link #properties(String, String, java.util.Map)}, connecting with {@code security} (TLS, SASL). */
    public static Properties properties(String bootstrap, String clientId, java.util.Map<String, String> overrides,
                                        KafkaClientSecurity security) {
        Properties p = new Properties();
        p.putAll(security.properties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(64L << 20));
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        p.put("reconnect.backoff.max.ms", "2000");
        p.putAll(overrides);
        return p;
    }

    /**
     * For the AdminClient that creates topics: the same bootstrap and the same connection settings (security
     * protocol, TLS, SASL) as the producers, none of the producer-only ones.
     */
    public static Properties adminProperties(String bootstrap, java.util.Map<String, String> producerOverrides) {
        return adminProperties(bootstrap, producerOverrides, KafkaClientSecurity.NONE);
    }

    public static Properties adminProperties(String bootstrap, java.util.Map<String, String> producerOverrides,
                                             KafkaClientSecurity security) {
        Properties p = new Properties();
        p.putAll(security.properties());
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.put("reconnect.backoff.max.ms", "2000");
        producerOverrides.forEach((k, v) -> {
            if (k.equals("security.protocol") || k.startsWith("ssl.") || k.startsWith("sasl.")) {
                p.put(k, v);
            }
        });
        return p;
    }

    public static KafkaProducer<byte[], byte[]> create(String bootstrap, String clientId,
                                                       java.util.Map<String, String> overrides) {
        return create(bootstrap, clientId, overrides, KafkaClientSecurity.NONE);
    }

    public static KafkaProducer<byte[], byte[]> create(String bootstrap, String clientId,
                                                       java.util.Map<String, String> overrides,
                                                       KafkaClientSecurity security) {
        return new KafkaProducer<>(properties(bootstrap, clientId, overrides, security), new ByteArraySerializer(),
                new ByteArraySerializer());
    }
}
