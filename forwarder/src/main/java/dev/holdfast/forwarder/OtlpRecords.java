package dev.holdfast.forwarder;

import com.google.protobuf.Message;
import dev.holdfast.otlp.OtlpJson;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.WalRecord;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogsData;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.metrics.v1.MetricsData;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.TracesData;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Turns one WAL record holding an OTLP export request into one Kafka record per resource, as the OpenTelemetry
 * Collector's Kafka receiver reads them: the signal's {@code LogsData}/{@code TracesData}/{@code MetricsData} holding
 * that one {@code Resource*}, encoded {@code otlp_proto} (default) or {@code otlp_json}, on the signal's topic, keyed
 * by the resource's {@code service.name} (the sender's name when it has none).
 *
 * <p>Headers as for holdfast.v1 events, without a batch seq (OTLP has none): {@code holdfast.event_id} is
 * {@code otlp-<signal>-<32 hex digits>}, the first 128 bits of the SHA-256 of the record's {@code otlp_proto} value:
 * derived from the resource and its content only, so an export retried by its sender, written twice, gets the same id
 * on every intake node and a consumer can drop the second copy.
 */
public final class OtlpRecords {
    public static final String SIGNAL = "holdfast.signal";
    private static final byte[] JSON_NAME = "otlp_json".getBytes(StandardCharsets.US_ASCII);

    private final OtlpTopics topics;
    private final byte[] node;

    public OtlpRecords(OtlpTopics topics, String intakeNode) {
        this.topics = topics;
        this.node = intakeNode.getBytes(StandardCharsets.UTF_8);
    }

    public List<ProducerRecord<byte[], byte[]>> toRecords(WalRecord record) throws IOException {
        RecordKind kind = record.header().kind();
        List<Message> resources = new ArrayList<>();
        List<Resource> described = new ArrayList<>();
        String topic;
        String signal;
        switch (kind) {
            case OTLP_LOGS -> {
                topic = topics.logs();
                signal = "logs";
                for (ResourceLogs r : ExportLogsServiceRequest.parseFrom(record.payload()).getResourceLogsList()) {
                    resources.add(LogsData.newBuilder().addResourceLogs(r).build());
                    described.add(r.getResource());
                }
            }
            case OTLP_TRACES -> {
                topic = topics.spans();
                signal = "traces";
                for (ResourceSpans r : ExportTraceServiceRequest.parseFrom(record.payload()).getResourceSpansList()) {
                    resources.add(TracesData.newBuilder().addResourceSpans(r).build());
                    described.add(r.getResource());
                }
            }
            case OTLP_METRICS -> {
                topic = topics.metrics();
                signal = "metrics";
                for (ResourceMetrics r : ExportMetricsServiceRequest.parseFrom(record.payload())
                        .getResourceMetricsList()) {
                    resources.add(MetricsData.newBuilder().addResourceMetrics(r).build());
                    described.add(r.getResource());
                }
            }
            default -> throw new IOException("WAL record " + Long.toHexString(record.index())
                    + " is not an OTLP request (kind " + kind + ")");
        }
        String sender = record.header().agentId();
        byte[] senderBytes = sender.getBytes(StandardCharsets.UTF_8);
        byte[] priority = record.header().priority().name().getBytes(StandardCharsets.US_ASCII);
        byte[] receivedAt = Long.toString(record.header().receivedAtEpochNanos()).getBytes(StandardCharsets.US_ASCII);
        byte[] signalName = signal.getBytes(StandardCharsets.US_ASCII);
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(resources.size());
        for (int i = 0; i < resources.size(); i++) {
            byte[] proto = resources.get(i).toByteArray();
            byte[] value = topics.json() ? OtlpJson.print(resources.get(i)) : proto;
            String service = serviceName(described.get(i));
            byte[] key = (service != null ? service : sender).getBytes(StandardCharsets.UTF_8);
            RecordHeaders headers = new RecordHeaders();
            headers.add(new RecordHeader(EventRecords.EVENT_ID, eventId(signal, proto)));
            headers.add(new RecordHeader(EventRecords.AGENT_ID, senderBytes));
            headers.add(new RecordHeader(SIGNAL, signalName));
            headers.add(new RecordHeader(EventRecords.PRIORITY, priority));
            headers.add(new RecordHeader(EventRecords.INTAKE_NODE, node));
            headers.add(new RecordHeader(EventRecords.RECEIVED_AT, receivedAt));
            if (topics.json()) {
                headers.add(new RecordHeader(EventRecords.ENCODING, JSON_NAME));
            }
            out.add(new ProducerRecord<>(topic, null, key, value, headers));
        }
        return out;
    }

    static String serviceName(Resource resource) {
        for (KeyValue kv : resource.getAttributesList()) {
            if (kv.getKey().equals("service.name") && kv.getValue().hasStringValue()
                    && !kv.getValue().getStringValue().isEmpty()) {
                return kv.getValue().getStringValue();
            }
        }
        return null;
    }

    static byte[] eventId(String signal, byte[] protoValue) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(protoValue);
            return ("otlp-" + signal + "-" + HexFormat.of().formatHex(digest, 0, 16)).getBytes(StandardCharsets.US_ASCII);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
