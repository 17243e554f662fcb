package dev.holdfast.intake.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.holdfast.otlp.OtlpSignal;
import dev.holdfast.wal.BatchPriority;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

import java.util.List;

/**
 * Looks inside a parsed OTLP request: how many items it holds, which are unusable on their own (ids of the wrong
 * length, a metric without a name), and the priority it earns. The request's bytes go to the WAL as received; only a
 * request with unusable items is rebuilt, without them (OTLP partial success).
 */
final class OtlpRequests {
    /**
     * @param items    usable items (log records, spans, data points)
     * @param rejected items left out, with {@code reason} the first one's problem ("" when none)
     * @param usable   the request without the rejected items; the parsed request itself when none were
     */
    record Inspection(long items, long rejected, String reason, BatchPriority priority, Message usable) {
    }

    private final OtlpPriorities priorities;

    OtlpRequests(OtlpPriorities priorities) {
        this.priorities = priorities;
    }

    Inspection inspect(OtlpSignal signal, Message request) {
        return inspect(signal, request, Integer.MAX_VALUE);
    }

    /**
     * @param maxResourceBytes the largest resource (with everything in it) taken: each becomes one Kafka record, and
     *                         one Kafka will refuse is left out here rather than acknowledged and dead-lettered
     */
    Inspection inspect(OtlpSignal signal, Message request, int maxResourceBytes) {
        return switch (signal) {
            case LOGS -> logs((ExportLogsServiceRequest) request, maxResourceBytes);
            case TRACES -> traces((ExportTraceServiceRequest) request, maxResourceBytes);
            case METRICS -> metrics((ExportMetricsServiceRequest) request, maxResourceBytes);
        };
    }

    private static String tooLarge(String at, int bytes, int max) {
        return at + " is " + bytes + " bytes, more than one Kafka record may hold (" + max + " bytes)";
    }

    /** Counts and the problem found so far, while walking one request. */
    private static final class Tally {
        long items;
        long rejected;
        String reason = "";
        BatchPriority priority;

        Tally(BatchPriority priority) {
            this.priority = priority;
        }

        void reject(long n, String why) {
            rejected += n;
            if (reason.isEmpty()) {
                reason = why;
            }
        }

        Inspection done(Message original, Message rebuilt) {
            return new Inspection(items, rejected, rejected == 0 ? "" : rejected + " rejected; first: " + reason,
                    priority, rejected == 0 ? original : rebuilt);
        }
    }

    private BatchPriority resourcePriority(OtlpSignal signal, Resource resource) {
        for (OtlpPriorities.AttributeRule rule : priorities.rules()) {
            if (rule.covers(signal) && hasAttribute(resource.getAttributesList(), rule.key(), rule.value())) {
                return rule.priority();
            }
        }
        return priorities.base(signal);
    }

    private static boolean hasAttribute(List<KeyValue> attributes, String key, String value) {
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals(key) && kv.getValue().hasStringValue()
                    && kv.getValue().getStringValue().equals(value)) {
                return true;
            }
        }
        return false;
    }

    private Inspection logs(ExportLogsServiceRequest request, int maxResourceBytes) {
        Tally t = new Tally(BatchPriority.BULK);
        ExportLogsServiceRequest.Builder rebuilt = ExportLogsServiceRequest.newBuilder();
        for (int r = 0; r < request.getResourceLogsCount(); r++) {
            ResourceLogs rl = request.getResourceLogs(r);
            if (rl.getSerializedSize() > maxResourceBytes) {
                t.reject(rl.getScopeLogsList().stream().mapToLong(ScopeLogs::getLogRecordsCount).sum(),
                        tooLarge("resourceLogs[" + r + "]", rl.getSerializedSize(), maxResourceBytes));
                continue;
            }
            BatchPriority resource = resourcePriority(OtlpSignal.LOGS, rl.getResource());
            ResourceLogs.Builder keptResource = rl.toBuilder().clearScopeLogs();
            for (int s = 0; s < rl.getScopeLogsCount(); s++) {
                ScopeLogs sl = rl.getScopeLogs(s);
                ScopeLogs.Builder keptScope = sl.toBuilder().clearLogRecords();
                for (int i = 0; i < sl.getLogRecordsCount(); i++) {
                    LogRecord log = sl.getLogRecords(i);
                    String at = "resourceLogs[" + r + "].scopeLogs[" + s + "].logRecords[" + i + "]";
                    String problem = idProblem(at + ".traceId", log.getTraceId(), 16, true);
                    if (problem == null) problem = idProblem(at + ".spanId", log.getSpanId(), 8, true);
                    if (problem != null) {
                        t.reject(1, problem);
                        continue;
                    }
                    t.items++;
                    BatchPriority p = resource;
                    if (log.getSeverityNumberValue() >= priorities.errorSeverity()) {
                        p = OtlpPriorities.higher(p, priorities.errorLogs());
                    }
                    t.priority = OtlpPriorities.higher(t.priority, p);
                    keptScope.addLogRecords(log);
                }
                if (keptScope.getLogRecordsCount() > 0) keptResource.addScopeLogs(keptScope);
            }
            if (keptResource.getScopeLogsCount() > 0) rebuilt.addResourceLogs(keptResource);
        }
        return t.done(request, rebuilt.build());
    }

    private Inspection traces(ExportTraceServiceRequest request, int maxResourceBytes) {
        Tally t = new Tally(BatchPriority.BULK);
        ExportTraceServiceRequest.Builder rebuilt = ExportTraceServiceRequest.newBuilder();
        for (int r = 0; r < request.getResourceSpansCount(); r++) {
            ResourceSpans rs = request.getResourceSpans(r);
            if (rs.getSerializedSize() > maxResourceBytes) {
                t.reject(rs.getScopeSpansList().stream().mapToLong(ScopeSpans::getSpansCount).sum(),
                        tooLarge("resourceSpans[" + r + "]", rs.getSerializedSize(), maxResourceBytes));
                continue;
            }
            BatchPriority resource = resourcePriority(OtlpSignal.TRACES, rs.getResource());
            ResourceSpans.Builder keptResource = rs.toBuilder().clearScopeSpans();
            for (int s = 0; s < rs.getScopeSpansCount(); s++) {
                ScopeSpans ss = rs.getScopeSpans(s);
                ScopeSpans.Builder keptScope = ss.toBuilder().clearSpans();
                for (int i = 0; i < ss.getSpansCount(); i++) {
                    Span span = ss.getSpans(i);
                    String problem = spanProblem("resourceSpans[" + r + "].scopeSpans[" + s + "].spans[" + i + "]",
                            span);
                    if (problem != null) {
                        t.reject(1, problem);
                        continue;
                    }
                    t.items++;
                    t.priority = OtlpPriorities.higher(t.priority, resource);
                    keptScope.addSpans(span);
                }
                if (keptScope.getSpansCount() > 0) keptResource.addScopeSpans(keptScope);
            }
            if (keptResource.getScopeSpansCount() > 0) rebuilt.addResourceSpans(keptResource);
        }
        return t.done(request, rebuilt.build());
    }

    /** A span must name its trace and itself (the OTLP spec calls all-zero ids invalid); its links likewise. */
    private static String spanProblem(String at, Span span) {
        String problem = idProblem(at + ".traceId", span.getTraceId(), 16, false);
        if (problem == null) problem = idProblem(at + ".spanId", span.getSpanId(), 8, false);
        if (problem == null) problem = idProblem(at + ".parentSpanId", span.getParentSpanId(), 8, true);
        for (int l = 0; problem == null && l < span.getLinksCount(); l++) {
            problem = idProblem(at + ".links[" + l + "].traceId", span.getLinks(l).getTraceId(), 16, false);
            if (problem == null) {
                problem = idProblem(at + ".links[" + l + "].spanId", span.getLinks(l).getSpanId(), 8, false);
            }
        }
        return problem;
    }

    private Inspection metrics(ExportMetricsServiceRequest request, int maxResourceBytes) {
        Tally t = new Tally(BatchPriority.BULK);
        ExportMetricsServiceRequest.Builder rebuilt = ExportMetricsServiceRequest.newBuilder();
        for (int r = 0; r < request.getResourceMetricsCount(); r++) {
            ResourceMetrics rm = request.getResourceMetrics(r);
            if (rm.getSerializedSize() > maxResourceBytes) {
                t.reject(rm.getScopeMetricsList().stream().flatMap(sm -> sm.getMetricsList().stream())
                                .mapToLong(OtlpRequests::dataPoints).sum(),
                        tooLarge("resourceMetrics[" + r + "]", rm.getSerializedSize(), maxResourceBytes));
                continue;
            }
            BatchPriority resource = resourcePriority(OtlpSignal.METRICS, rm.getResource());
            ResourceMetrics.Builder keptResource = rm.toBuilder().clearScopeMetrics();
            for (int s = 0; s < rm.getScopeMetricsCount(); s++) {
                ScopeMetrics sm = rm.getScopeMetrics(s);
                ScopeMetrics.Builder keptScope = sm.toBuilder().clearMetrics();
                for (int i = 0; i < sm.getMetricsCount(); i++) {
                    Metric metric = sm.getMetrics(i);
                    long points = dataPoints(metric);
                    if (metric.getName().isEmpty()) {
                        t.reject(Math.max(1, points), "resourceMetrics[" + r + "].scopeMetrics[" + s + "].metrics["
                                + i + "]: a metric without a name");
                        continue;
                    }
                    t.items += points;
                    t.priority = OtlpPriorities.higher(t.priority, resource);
                    keptScope.addMetrics(metric);
                }
                if (keptScope.getMetricsCount() > 0) keptResource.addScopeMetrics(keptScope);
            }
            if (keptResource.getScopeMetricsCount() > 0) rebuilt.addResourceMetrics(keptResource);
        }
        return t.done(request, rebuilt.build());
    }

    /** Data points of a metric, whatever its type (the unit OTLP counts metrics in). */
    static long dataPoints(Metric m) {
        return switch (m.getDataCase()) {
            case GAUGE -> m.getGauge().getDataPointsCount();
            case SUM -> m.getSum().getDataPointsCount();
            case HISTOGRAM -> m.getHistogram().getDataPointsCount();
            case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
            case SUMMARY -> m.getSummary().getDataPointsCount();
            case DATA_NOT_SET -> 0;
        };
    }

    /** Null when {@code id} is {@code length} bytes and not all zero (or empty, where that is allowed). */
    private static String idProblem(String at, ByteString id, int length, boolean mayBeEmpty) {
        if (id.isEmpty()) {
            return mayBeEmpty ? null : at + " is empty";
        }
        if (id.size() != length) {
            return at + " is " + id.size() + " bytes, not " + length;
        }
        for (int i = 0; i < length; i++) {
            if (id.byteAt(i) != 0) {
                return null;
            }
        }
        return mayBeEmpty ? null : at + " is all zeros (an invalid id)";
    }
}
