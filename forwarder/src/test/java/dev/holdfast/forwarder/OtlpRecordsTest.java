package dev.holdfast.forwarder;

import dev.holdfast.wal.ScanProgress;
import com.google.protobuf.ByteString;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.WalRecord;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.LogsData;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.TracesData;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OtlpRecordsTest {
    private static Resource resource(String service) {
        Resource.Builder r = Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("host.name")
                .setValue(AnyValue.newBuilder().setStringValue("h1")));
        if (service != null) {
            r.addAttributes(KeyValue.newBuilder().setKey("service.name")
                    .setValue(AnyValue.newBuilder().setStringValue(service)));
        }
        return r.build();
    }

    private static ResourceLogs logs(String service, String... bodies) {
        ScopeLogs.Builder scope = ScopeLogs.newBuilder();
        for (String b : bodies) {
            scope.addLogRecords(LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue(b))
                    .setSeverityNumberValue(9));
        }
        return ResourceLogs.newBuilder().setResource(resource(service)).addScopeLogs(scope).build();
    }

    private static WalRecord record(RecordKind kind, byte[] payload) {
        return new WalRecord(0x1234, "seg", new BatchHeader("sender-1", 0, 3, BatchPriority.CRITICAL,
                1_700_000_000_000_000_000L, kind), 0, payload);
    }

    private static String header(ProducerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    @Test
    void oneKafkaRecordPerResourceKeyedByServiceNameOnTheSignalsTopic() throws Exception {
        ExportLogsServiceRequest request = ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(logs("checkout", "a", "b")).addResourceLogs(logs(null, "c")).build();
        List<ProducerRecord<byte[], byte[]>> out = new OtlpRecords(OtlpTopics.DEFAULTS, "node-7")
                .toRecords(record(RecordKind.OTLP_LOGS, request.toByteArray()));
        assertEquals(2, out.size());
        assertEquals("holdfast.otlp.logs", out.get(0).topic());
        assertEquals("checkout", new String(out.get(0).key(), StandardCharsets.UTF_8));
        assertEquals("sender-1", new String(out.get(1).key(), StandardCharsets.UTF_8), "no service.name: the sender");
        // the value is what the Collector's Kafka receiver reads as otlp_proto: LogsData with that one resource
        assertEquals(LogsData.newBuilder().addResourceLogs(request.getResourceLogs(0)).build(),
                LogsData.parseFrom(out.get(0).value()));
        assertEquals(LogsData.newBuilder().addResourceLogs(request.getResourceLogs(1)).build(),
                LogsData.parseFrom(out.get(1).value()));
        assertEquals("logs", header(out.get(0), OtlpRecords.SIGNAL));
        assertEquals("CRITICAL", header(out.get(0), EventRecords.PRIORITY));
        assertEquals("node-7", header(out.get(0), EventRecords.INTAKE_NODE));
        assertEquals("sender-1", header(out.get(0), EventRecords.AGENT_ID));
        assertNull(out.get(0).headers().lastHeader(EventRecords.ENCODING), "protobuf values carry no encoding header");
        String id0 = header(out.get(0), EventRecords.EVENT_ID);
        assertTrue(id0.matches("otlp-logs-[0-9a-f]{32}"), id0);
        assertNotEquals(id0, header(out.get(1), EventRecords.EVENT_ID));
    }

    @Test
    void theIdDependsOnContentOnlySoARetriedExportOnAnotherNodeHasTheSameOne() throws Exception {
        byte[] request = ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("svc", "x")).build().toByteArray();
        ProducerRecord<byte[], byte[]> first = new OtlpRecords(OtlpTopics.DEFAULTS, "node-a")
                .toRecords(record(RecordKind.OTLP_LOGS, request)).get(0);
        WalRecord later = new WalRecord(0x9999, "other", new BatchHeader("sender-1", 0, 1, BatchPriority.NORMAL,
                1_800_000_000_000_000_000L, RecordKind.OTLP_LOGS), 0, request);
        ProducerRecord<byte[], byte[]> second = new OtlpRecords(OtlpTopics.DEFAULTS, "node-b").toRecords(later).get(0);
        assertEquals(header(first, EventRecords.EVENT_ID), header(second, EventRecords.EVENT_ID));
        byte[] other = ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("svc", "y")).build().toByteArray();
        assertNotEquals(header(first, EventRecords.EVENT_ID), header(new OtlpRecords(OtlpTopics.DEFAULTS, "node-a")
                .toRecords(record(RecordKind.OTLP_LOGS, other)).get(0), EventRecords.EVENT_ID));
    }

    @Test
    void tracesAsOtlpJsonWithHexIds() throws Exception {
        byte[] trace = new byte[16];
        trace[15] = 0x0c;
        byte[] span = new byte[8];
        span[0] = (byte) 0xab;
        ResourceSpans rs = ResourceSpans.newBuilder().setResource(resource("api")).addScopeSpans(ScopeSpans
                .newBuilder().addSpans(Span.newBuilder().setName("GET /").setTraceId(ByteString.copyFrom(trace))
                        .setSpanId(ByteString.copyFrom(span)).setKind(Span.SpanKind.SPAN_KIND_SERVER))).build();
        byte[] request = ExportTraceServiceRequest.newBuilder().addResourceSpans(rs).build().toByteArray();
        OtlpTopics json = OtlpTopics.of("l", "s", "m", "otlp_json");
        List<ProducerRecord<byte[], byte[]>> out = new OtlpRecords(json, "n").toRecords(record(RecordKind.OTLP_TRACES,
                request));
        assertEquals(1, out.size());
        assertEquals("s", out.get(0).topic());
        String value = new String(out.get(0).value(), StandardCharsets.UTF_8);
        assertTrue(value.contains("\"traceId\":\"0000000000000000000000000000000c\""), value);
        assertTrue(value.contains("\"spanId\":\"ab00000000000000\""), value);
        assertTrue(value.contains("\"kind\":2"), value);
        assertEquals("otlp_json", header(out.get(0), EventRecords.ENCODING));
        // the same id as the protobuf encoding would give: it is computed over the otlp_proto value
        ProducerRecord<byte[], byte[]> proto = new OtlpRecords(OtlpTopics.DEFAULTS, "n")
                .toRecords(record(RecordKind.OTLP_TRACES, request)).get(0);
        assertEquals(header(proto, EventRecords.EVENT_ID), header(out.get(0), EventRecords.EVENT_ID));
        assertEquals(TracesData.newBuilder().addResourceSpans(rs).build(), TracesData.parseFrom(proto.value()));
    }

    @Test
    void eachMapperRefusesTheOthersRecordsInsteadOfMisreadingThem() throws Exception {
        byte[] request = ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("svc", "x")).build().toByteArray();
        // an OTLP request parsed as an EventBatch would slice into nonsense events
        assertThrows(java.io.IOException.class, () -> new EventRecords("t", "n")
                .toRecords(record(RecordKind.OTLP_LOGS, request)));
        assertThrows(java.io.IOException.class, () -> new OtlpRecords(OtlpTopics.DEFAULTS, "n")
                .toRecords(record(RecordKind.EVENTS, request)));
        RecordMapper both = RecordMapper.of(new EventRecords("t", "n"), new OtlpRecords(OtlpTopics.DEFAULTS, "n"));
        assertEquals("holdfast.otlp.logs", both.toRecords(record(RecordKind.OTLP_LOGS, request)).get(0).topic());
    }

    @Test
    void replayOfAWalHoldingBothKindsSendsEachToItsOwnTopics(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = tmp.resolve("wal");
        byte[] otlp = ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("a", "x"))
                .addResourceLogs(logs("b", "y", "z")).build().toByteArray();
        byte[] batch = dev.holdfast.protocol.v1.EventBatch.newBuilder().setAgentId("agent").setBatchSeq(1)
                .addEvents(dev.holdfast.protocol.v1.Event.newBuilder().setTimeUnixNano(1))
                .addEvents(dev.holdfast.protocol.v1.Event.newBuilder().setTimeUnixNano(2)).build().toByteArray();
        try (dev.holdfast.wal.Wal wal = dev.holdfast.wal.Wal.open(dev.holdfast.wal.WalConfig.defaults(dir, false),
                dev.holdfast.wal.CommitListener.NONE)) {
            wal.append(new BatchHeader("agent", 1, 2, BatchPriority.NORMAL, 1L), batch).get();
            wal.append(new BatchHeader("otlp", 0, 3, BatchPriority.NORMAL, 2L, RecordKind.OTLP_LOGS), otlp).get();
        }
        RecordMapper mapper = RecordMapper.of(new EventRecords("events", "replay"),
                new OtlpRecords(OtlpTopics.DEFAULTS, "replay"));
        List<String> topics = new java.util.ArrayList<>();
        try (dev.holdfast.wal.WalInspector inspector = dev.holdfast.wal.WalInspector.open(dir)) {
            inspector.forEach(null, null, e -> {
                try {
                    mapper.toRecords(((dev.holdfast.wal.WalReader.Valid) e).record())
                            .forEach(r -> topics.add(r.topic()));
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            });
            WalReplay.Result dry = WalReplay.run(inspector, WalReplay.Range.ALL, mapper, null, ScanProgress.NONE);
            assertEquals(2, dry.records());
            assertEquals(4, dry.events(), "two events and two resources");
        }
        assertEquals(List.of("events", "events", "holdfast.otlp.logs", "holdfast.otlp.logs"), topics);
    }
}
