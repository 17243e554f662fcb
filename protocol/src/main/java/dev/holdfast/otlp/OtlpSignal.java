package dev.holdfast.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

import java.util.Locale;

/**
 * The three OTLP signals Holdfast takes: what a request and a response of each are, and where each is served. One
 * place, so the gRPC service, the HTTP listener, the WAL record kind and the forwarder agree.
 */
public enum OtlpSignal {
    LOGS("/v1/logs"),
    TRACES("/v1/traces"),
    METRICS("/v1/metrics");

    private final String httpPath;

    OtlpSignal(String httpPath) {
        this.httpPath = httpPath;
    }

    /** {@code logs}, {@code traces}, {@code metrics}: in config, metrics tags and messages. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The OTLP/HTTP path: {@code /v1/logs} ... */
    public String httpPath() {
        return httpPath;
    }

    /** An empty request builder, e.g. to merge JSON into. */
    public Message.Builder newRequestBuilder() {
        return switch (this) {
            case LOGS -> ExportLogsServiceRequest.newBuilder();
            case TRACES -> ExportTraceServiceRequest.newBuilder();
            case METRICS -> ExportMetricsServiceRequest.newBuilder();
        };
    }

    /** Parses a request of this signal from its protobuf bytes. */
    public Message parseRequest(byte[] bytes) throws InvalidProtocolBufferException {
        return switch (this) {
            case LOGS -> ExportLogsServiceRequest.parseFrom(bytes);
            case TRACES -> ExportTraceServiceRequest.parseFrom(bytes);
            case METRICS -> ExportMetricsServiceRequest.parseFrom(bytes);
        };
    }

    /**
     * The success response: empty when nothing was rejected, else with {@code partial_success} saying how many items
     * were and why (the OTLP partial-success rule: the rest were accepted).
     */
    public Message response(long rejected, String errorMessage) {
        if (rejected == 0 && errorMessage.isEmpty()) {
            return switch (this) {
                case LOGS -> ExportLogsServiceResponse.getDefaultInstance();
                case TRACES -> ExportTraceServiceResponse.getDefaultInstance();
                case METRICS -> ExportMetricsServiceResponse.getDefaultInstance();
            };
        }
        return switch (this) {
            case LOGS -> ExportLogsServiceResponse.newBuilder().setPartialSuccess(ExportLogsPartialSuccess
                    .newBuilder().setRejectedLogRecords(rejected).setErrorMessage(errorMessage)).build();
            case TRACES -> ExportTraceServiceResponse.newBuilder().setPartialSuccess(ExportTracePartialSuccess
                    .newBuilder().setRejectedSpans(rejected).setErrorMessage(errorMessage)).build();
            case METRICS -> ExportMetricsServiceResponse.newBuilder().setPartialSuccess(ExportMetricsPartialSuccess
                    .newBuilder().setRejectedDataPoints(rejected).setErrorMessage(errorMessage)).build();
        };
    }
}
