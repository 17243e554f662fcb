package dev.holdfast.intake.otlp;

import com.google.protobuf.ByteString;
import dev.holdfast.otlp.OtlpSignal;
import dev.holdfast.wal.BatchPriority;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OtlpRequestsTest {
    private static Resource resource(String key, String value) {
        return Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey(key)
                .setValue(AnyValue.newBuilder().setStringValue(value))).build();
    }

    private static ExportTraceServiceRequest trace(Resource resource) {
        return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().setResource(resource)
                .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder().setName("s")
                        .setTraceId(ByteString.copyFromUtf8("0123456789abcdef"))
                        .setSpanId(ByteString.copyFromUtf8("01234567"))))).build();
    }

    @Test
    void aResourceAttributeRuleGivesItsPriorityBeforeTheSignalsDefault() {
        OtlpPriorities withRule = new OtlpPriorities(BatchPriority.NORMAL, BatchPriority.NORMAL, BatchPriority.BULK,
                BatchPriority.CRITICAL, 17, List.of(new OtlpPriorities.AttributeRule(OtlpSignal.TRACES,
                "deployment.environment", "prod", BatchPriority.CRITICAL)));
        OtlpRequests requests = new OtlpRequests(withRule);
        assertEquals(BatchPriority.CRITICAL, requests.inspect(OtlpSignal.TRACES,
                trace(resource("deployment.environment", "prod"))).priority());
        assertEquals(BatchPriority.NORMAL, requests.inspect(OtlpSignal.TRACES,
                trace(resource("deployment.environment", "dev"))).priority());
        assertEquals(BatchPriority.NORMAL, new OtlpRequests(OtlpPriorities.DEFAULTS).inspect(OtlpSignal.TRACES,
                trace(resource("deployment.environment", "prod"))).priority(), "no rule by default");
    }

    @Test
    void oneErrorLogMakesTheWholeRequestCriticalSoSheddingNeverDropsIt() {
        ScopeLogs.Builder scope = ScopeLogs.newBuilder();
        for (int severity : new int[]{5, 9, 17, 9}) {
            scope.addLogRecords(LogRecord.newBuilder().setSeverityNumberValue(severity));
        }
        ExportLogsServiceRequest mixed = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs
                .newBuilder().addScopeLogs(scope)).build();
        OtlpRequests.Inspection i = new OtlpRequests(OtlpPriorities.DEFAULTS).inspect(OtlpSignal.LOGS, mixed);
        assertEquals(BatchPriority.CRITICAL, i.priority());
        assertEquals(4, i.items());
        assertSame(mixed, i.usable(), "nothing rejected: the request is stored as received");
    }

    @Test
    void dataPointsAreTheMetricsItemsAndAMetricWithoutANameIsRejectedWithThem() {
        Metric named = Metric.newBuilder().setName("latency").setHistogram(Histogram.newBuilder()
                .addDataPoints(HistogramDataPoint.getDefaultInstance())
                .addDataPoints(HistogramDataPoint.getDefaultInstance())).build();
        Metric nameless = named.toBuilder().clearName().build();
        ExportMetricsServiceRequest request = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
                ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(named)
                        .addMetrics(nameless))).build();
        OtlpRequests.Inspection i = new OtlpRequests(OtlpPriorities.DEFAULTS).inspect(OtlpSignal.METRICS, request);
        assertEquals(2, i.items());
        assertEquals(2, i.rejected());
        assertEquals("2 rejected; first: resourceMetrics[0].scopeMetrics[0].metrics[1]: a metric without a name",
                i.reason());
        assertEquals(List.of(named), ((ExportMetricsServiceRequest) i.usable()).getResourceMetrics(0)
                .getScopeMetrics(0).getMetricsList());
        assertEquals(BatchPriority.BULK, i.priority());
    }

    @Test
    void aResourceLargerThanOneKafkaRecordIsLeftOutWithEverythingInIt() {
        ResourceLogs small = ResourceLogs.newBuilder().setResource(resource("service.name", "a"))
                .addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.getDefaultInstance())).build();
        ScopeLogs.Builder many = ScopeLogs.newBuilder();
        for (int i = 0; i < 3; i++) {
            many.addLogRecords(LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue("x".repeat(100))));
        }
        ResourceLogs big = ResourceLogs.newBuilder().setResource(resource("service.name", "b")).addScopeLogs(many)
                .build();
        ExportLogsServiceRequest request = ExportLogsServiceRequest.newBuilder().addResourceLogs(small)
                .addResourceLogs(big).build();
        OtlpRequests.Inspection i = new OtlpRequests(OtlpPriorities.DEFAULTS).inspect(OtlpSignal.LOGS, request, 200);
        assertEquals(1, i.items());
        assertEquals(3, i.rejected());
        assertEquals("3 rejected; first: resourceLogs[1] is " + big.getSerializedSize()
                + " bytes, more than one Kafka record may hold (200 bytes)", i.reason());
        assertEquals(List.of(small), ((ExportLogsServiceRequest) i.usable()).getResourceLogsList());
    }
}
