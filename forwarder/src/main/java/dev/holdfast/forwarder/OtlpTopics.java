package dev.holdfast.forwarder;

import java.util.Objects;

/**
 * Where and how OTLP data goes to Kafka: a topic per signal, and the value encoding the OpenTelemetry Collector's
 * Kafka receiver reads ({@code otlp_proto} or {@code otlp_json}).
 */
public record OtlpTopics(String logs, String spans, String metrics, boolean json) {
    public static final OtlpTopics DEFAULTS = new OtlpTopics("holdfast.otlp.logs", "holdfast.otlp.spans",
            "holdfast.otlp.metrics", false);

    public OtlpTopics {
        Objects.requireNonNull(logs, "logs");
        Objects.requireNonNull(spans, "spans");
        Objects.requireNonNull(metrics, "metrics");
    }

    /** {@code otlp_proto} or {@code otlp_json}. */
    public static OtlpTopics of(String logs, String spans, String metrics, String encoding) {
        return new OtlpTopics(logs, spans, metrics, encoding.equals("otlp_json"));
    }
}
