package dev.holdfast.otlp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.LogsData;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OtlpJsonTest {

    private static final String TRACE_ID = "5b8efff798038103d269b633813fc60c";
    private static final String SPAN_ID = "eee19b7ec3c1b174";
    private static final String PARENT_SPAN_ID = "eee19b7ec3c1b173";
    private static final String LINKED_TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
    private static final String LINKED_SPAN_ID = "b7ad6b7169203331";

    // ---- round trips of builder-made requests ----

    @Test
    void logsRequestRoundTrips() throws Exception {
        ExportLogsServiceRequest request = logsRequest();

        String json = printed(request);

        assertTrue(json.contains("\"traceId\":\"" + TRACE_ID + "\""), json);
        assertTrue(json.contains("\"spanId\":\"" + SPAN_ID + "\""), json);
        assertTrue(json.contains("\"severityNumber\":13"), json);
        // other bytes stay base64: 00 01 02 ff
        assertTrue(json.contains("\"bytesValue\":\"AAEC/w==\""), json);
        // fixed64 beyond Long.MAX_VALUE is printed unsigned
        assertTrue(json.contains("\"observedTimeUnixNano\":\"18446744073709551615\""), json);
        assertFalse(json.contains("\n"), json);
        assertEquals(request, OtlpJson.parse(OtlpSignal.LOGS, json.getBytes(UTF_8)));
    }

    @Test
    void tracesRequestRoundTrips() throws Exception {
        ExportTraceServiceRequest request = tracesRequest();

        String json = printed(request);

        assertTrue(json.contains("\"traceId\":\"" + TRACE_ID + "\""), json);
        assertTrue(json.contains("\"spanId\":\"" + SPAN_ID + "\""), json);
        assertTrue(json.contains("\"parentSpanId\":\"" + PARENT_SPAN_ID + "\""), json);
        assertTrue(json.contains("\"links\":[{\"traceId\":\"" + LINKED_TRACE_ID + "\",\"spanId\":\""
                + LINKED_SPAN_ID + "\""), json);
        assertTrue(json.contains("\"kind\":2"), json);
        assertTrue(json.contains("\"code\":2"), json);
        assertEquals(request, OtlpJson.parse(OtlpSignal.TRACES, json.getBytes(UTF_8)));
    }

    @Test
    void metricsRequestRoundTrips() throws Exception {
        ExportMetricsServiceRequest request = metricsRequest();

        String json = printed(request);

        assertTrue(json.contains("\"aggregationTemporality\":2"), json);
        assertTrue(json.contains("\"aggregationTemporality\":1"), json);
        assertTrue(json.contains("\"exemplars\":[{\"timeUnixNano\":\"1544712660300000000\",\"spanId\":\""
                + SPAN_ID + "\",\"traceId\":\"" + TRACE_ID + "\",\"asInt\":\"-7\"}]"), json);
        assertEquals(request, OtlpJson.parse(OtlpSignal.METRICS, json.getBytes(UTF_8)));
    }

    @Test
    void printsDataMessagesLikeTheirRequests() throws Exception {
        ExportLogsServiceRequest request = logsRequest();
        LogsData data = LogsData.newBuilder().addAllResourceLogs(request.getResourceLogsList()).build();

        String json = printed(data);

        assertTrue(json.contains("\"traceId\":\"" + TRACE_ID + "\""), json);
        assertEquals(printed(request), json);
    }

    @Test
    void emptyIdsArePrintedAsNothingAndParsedFromEmptyStrings() throws Exception {
        ExportTraceServiceRequest request = ExportTraceServiceRequest.newBuilder()
                .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ScopeSpans.newBuilder()
                        .addSpans(Span.newBuilder().setName("root"))))
                .build();
        assertFalse(printed(request).contains("Id"), printed(request));

        Message parsed = parse(OtlpSignal.TRACES, """
                {"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"","parentSpanId":"","name":"root"}]}]}]}
                """);
        assertEquals(request, parsed);
    }

    @Test
    void printsMessagesDeeperThanItParses() throws Exception {
        AnyValue body = AnyValue.newBuilder().setStringValue("leaf").build();
        for (int i = 0; i < 30; i++) {
            body = kvlist(KeyValue.newBuilder().setKey("level" + i).setValue(body).build());
        }
        ExportLogsServiceRequest deep = ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder()
                        .addLogRecords(LogRecord.newBuilder().setBody(body))))
                .build();

        byte[] json = OtlpJson.print(deep);

        assertTrue(new String(json, UTF_8).contains("\"level29\""));
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                () -> OtlpJson.parse(OtlpSignal.LOGS, json));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
    }

    @Test
    void parsesKvlistsNestedAsDeepAsTheLimitAllows() throws Exception {
        // 8 levels down to a log body, 4 per kvlist: 14 kvlists are 64 levels
        AnyValue body = AnyValue.newBuilder().setStringValue("leaf").build();
        for (int i = 0; i < 14; i++) {
            body = kvlist(KeyValue.newBuilder().setKey("level" + i).setValue(body).build());
        }
        ExportLogsServiceRequest request = ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder()
                        .addLogRecords(LogRecord.newBuilder().setBody(body))))
                .build();
        assertEquals(request, OtlpJson.parse(OtlpSignal.LOGS, OtlpJson.print(request)));

        ExportLogsServiceRequest deeper = ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder()
                        .addLogRecords(LogRecord.newBuilder().setBody(kvlist(KeyValue.newBuilder()
                                .setKey("one more").setValue(body).build())))))
                .build();
        assertThrows(OtlpJson.InvalidJsonException.class,
                () -> OtlpJson.parse(OtlpSignal.LOGS, OtlpJson.print(deeper)));
    }

    // ---- documents as senders write them (after opentelemetry-proto's examples/*.json) ----

    @Test
    void parsesTheLogsExample() throws Exception {
        ExportLogsServiceRequest request = (ExportLogsServiceRequest) parse(OtlpSignal.LOGS, """
                {
                  "resourceLogs": [
                    {
                      "resource": {
                        "attributes": [
                          { "key": "service.name", "value": { "stringValue": "my.service" } }
                        ]
                      },
                      "scopeLogs": [
                        {
                          "scope": {
                            "name": "my.library",
                            "version": "1.0.0",
                            "attributes": [
                              { "key": "my.scope.attribute", "value": { "stringValue": "some scope attribute" } }
                            ]
                          },
                          "logRecords": [
                            {
                              "timeUnixNano": "1544712660300000000",
                              "observedTimeUnixNano": 1544712660300000000,
                              "severityNumber": 10,
                              "severityText": "Information",
                              "traceId": "5B8EFFF798038103D269B633813FC60C",
                              "spanId": "EEE19B7EC3C1B174",
                              "body": { "stringValue": "Example log record" },
                              "attributes": [
                                { "key": "string.attribute", "value": { "stringValue": "some string" } },
                                { "key": "boolean.attribute", "value": { "boolValue": true } },
                                { "key": "int.attribute", "value": { "intValue": "10" } },
                                { "key": "int.as.number", "value": { "intValue": 10 } },
                                { "key": "double.attribute", "value": { "doubleValue": 637.704 } },
                                { "key": "bytes.attribute", "value": { "bytesValue": "AAEC/w==" } },
                                {
                                  "key": "array.attribute",
                                  "value": {
                                    "arrayValue": { "values": [ { "stringValue": "many" }, { "stringValue": "values" } ] }
                                  }
                                },
                                {
                                  "key": "map.attribute",
                                  "value": {
                                    "kvlistValue": {
                                      "values": [ { "key": "some.map.key", "value": { "stringValue": "some value" } } ]
                                    }
                                  }
                                }
                              ]
                            }
                          ]
                        }
                      ]
                    }
                  ]
                }
                """);

        ResourceLogs resourceLogs = request.getResourceLogs(0);
        assertEquals(KeyValue.newBuilder().setKey("service.name").setValue(string("my.service")).build(),
                resourceLogs.getResource().getAttributes(0));
        assertEquals("1.0.0", resourceLogs.getScopeLogs(0).getScope().getVersion());
        LogRecord log = resourceLogs.getScopeLogs(0).getLogRecords(0);
        assertEquals(1544712660300000000L, log.getTimeUnixNano());
        assertEquals(1544712660300000000L, log.getObservedTimeUnixNano());
        assertEquals(SeverityNumber.SEVERITY_NUMBER_INFO2, log.getSeverityNumber());
        assertEquals(bytes(TRACE_ID), log.getTraceId());
        assertEquals(bytes(SPAN_ID), log.getSpanId());
        assertEquals("Example log record", log.getBody().getStringValue());
        assertEquals(10, log.getAttributes(2).getValue().getIntValue());
        assertEquals(10, log.getAttributes(3).getValue().getIntValue());
        assertEquals(637.704, log.getAttributes(4).getValue().getDoubleValue());
        assertEquals(ByteString.copyFrom(new byte[] {0, 1, 2, (byte) 0xff}),
                log.getAttributes(5).getValue().getBytesValue());
        assertEquals("values", log.getAttributes(6).getValue().getArrayValue().getValues(1).getStringValue());
        assertEquals("some value",
                log.getAttributes(7).getValue().getKvlistValue().getValues(0).getValue().getStringValue());
    }

    @Test
    void parsesTheTraceExample() throws Exception {
        ExportTraceServiceRequest request = (ExportTraceServiceRequest) parse(OtlpSignal.TRACES, """
                {
                  "resourceSpans": [
                    {
                      "resource": {
                        "attributes": [ { "key": "service.name", "value": { "stringValue": "my.service" } } ]
                      },
                      "scopeSpans": [
                        {
                          "scope": { "name": "my.library", "version": "1.0.0" },
                          "spans": [
                            {
                              "traceId": "5B8EFFF798038103D269B633813FC60C",
                              "spanId": "EEE19B7EC3C1B174",
                              "parentSpanId": "EEE19B7EC3C1B173",
                              "name": "I'm a server span",
                              "startTimeUnixNano": "1544712660000000000",
                              "endTimeUnixNano": "1544712661000000000",
                              "kind": 2,
                              "attributes": [ { "key": "my.span.attr", "value": { "stringValue": "some value" } } ],
                              "links": [ { "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331" } ],
                              "status": { "code": 1 }
                            }
                          ]
                        }
                      ]
                    }
                  ]
                }
                """);

        Span span = request.getResourceSpans(0).getScopeSpans(0).getSpans(0);
        assertEquals(bytes(TRACE_ID), span.getTraceId());
        assertEquals(bytes(SPAN_ID), span.getSpanId());
        assertEquals(bytes(PARENT_SPAN_ID), span.getParentSpanId());
        assertEquals(Span.SpanKind.SPAN_KIND_SERVER, span.getKind());
        assertEquals(1544712661000000000L, span.getEndTimeUnixNano());
        assertEquals(bytes(LINKED_TRACE_ID), span.getLinks(0).getTraceId());
        assertEquals(bytes(LINKED_SPAN_ID), span.getLinks(0).getSpanId());
        assertEquals(Status.StatusCode.STATUS_CODE_OK, span.getStatus().getCode());
    }

    @Test
    void parsesTheMetricsExample() throws Exception {
        ExportMetricsServiceRequest request = (ExportMetricsServiceRequest) parse(OtlpSignal.METRICS, """
                {
                  "resourceMetrics": [
                    {
                      "resource": {
                        "attributes": [ { "key": "service.name", "value": { "stringValue": "my.service" } } ]
                      },
                      "scopeMetrics": [
                        {
                          "scope": { "name": "my.library", "version": "1.0.0" },
                          "metrics": [
                            {
                              "name": "my.counter",
                              "unit": "1",
                              "description": "I am a Counter",
                              "sum": {
                                "aggregationTemporality": 1,
                                "isMonotonic": true,
                                "dataPoints": [
                                  {
                                    "asDouble": 5,
                                    "startTimeUnixNano": "1544712660300000000",
                                    "timeUnixNano": "1544712660300000000",
                                    "attributes": [ { "key": "my.counter.attr", "value": { "stringValue": "some value" } } ],
                                    "exemplars": [
                                      {
                                        "timeUnixNano": "1544712660300000000",
                                        "asDouble": 5,
                                        "traceId": "5b8efff798038103d269b633813fc60c",
                                        "spanId": "eee19b7ec3c1b174"
                                      }
                                    ]
                                  }
                                ]
                              }
                            },
                            {
                              "name": "my.gauge",
                              "unit": "1",
                              "description": "I am a Gauge",
                              "gauge": {
                                "dataPoints": [ { "asInt": "10", "timeUnixNano": "1544712660300000000" },
                                                { "asInt": -3, "timeUnixNano": 1544712660300000001 } ]
                              }
                            },
                            {
                              "name": "my.histogram",
                              "unit": "1",
                              "description": "I am a Histogram",
                              "histogram": {
                                "aggregationTemporality": 1,
                                "dataPoints": [
                                  {
                                    "startTimeUnixNano": "1544712660300000000",
                                    "timeUnixNano": "1544712660300000000",
                                    "count": "2",
                                    "sum": 2,
                                    "bucketCounts": [ "1", 1 ],
                                    "explicitBounds": [ 1 ],
                                    "min": 0,
                                    "max": 2
                                  }
                                ]
                              }
                            },
                            {
                              "name": "my.exponential.histogram",
                              "unit": "1",
                              "description": "I am an Exponential Histogram",
                              "exponentialHistogram": {
                                "aggregationTemporality": 1,
                                "dataPoints": [
                                  {
                                    "startTimeUnixNano": "1544712660300000000",
                                    "timeUnixNano": "1544712660300000000",
                                    "count": "3",
                                    "sum": 10,
                                    "scale": 0,
                                    "zeroCount": "1",
                                    "positive": { "offset": 1, "bucketCounts": [ "0", "2" ] },
                                    "min": 0,
                                    "max": 5,
                                    "zeroThreshold": 0
                                  }
                                ]
                              }
                            }
                          ]
                        }
                      ]
                    }
                  ]
                }
                """);

        ScopeMetrics scope = request.getResourceMetrics(0).getScopeMetrics(0);
        Sum sum = scope.getMetrics(0).getSum();
        assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, sum.getAggregationTemporality());
        assertTrue(sum.getIsMonotonic());
        assertEquals(5.0, sum.getDataPoints(0).getAsDouble());
        Exemplar exemplar = sum.getDataPoints(0).getExemplars(0);
        assertEquals(bytes(TRACE_ID), exemplar.getTraceId());
        assertEquals(bytes(SPAN_ID), exemplar.getSpanId());
        assertEquals(10, scope.getMetrics(1).getGauge().getDataPoints(0).getAsInt());
        assertEquals(-3, scope.getMetrics(1).getGauge().getDataPoints(1).getAsInt());
        assertEquals(1544712660300000001L, scope.getMetrics(1).getGauge().getDataPoints(1).getTimeUnixNano());
        HistogramDataPoint histogram = scope.getMetrics(2).getHistogram().getDataPoints(0);
        assertEquals(2, histogram.getCount());
        assertEquals(java.util.List.of(1L, 1L), histogram.getBucketCountsList());
        assertEquals(2.0, histogram.getMax());
        ExponentialHistogramDataPoint exponential = scope.getMetrics(3).getExponentialHistogram().getDataPoints(0);
        assertEquals(1, exponential.getZeroCount());
        assertEquals(java.util.List.of(0L, 2L), exponential.getPositive().getBucketCountsList());
    }

    @Test
    void acceptsEnumsByName() throws Exception {
        LogRecord log = ((ExportLogsServiceRequest) parse(OtlpSignal.LOGS, """
                {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN"}]}]}]}
                """)).getResourceLogs(0).getScopeLogs(0).getLogRecords(0);
        assertEquals(SeverityNumber.SEVERITY_NUMBER_WARN, log.getSeverityNumber());

        Span span = ((ExportTraceServiceRequest) parse(OtlpSignal.TRACES, """
                {"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_CLIENT",
                  "status":{"code":"STATUS_CODE_ERROR"}}]}]}]}
                """)).getResourceSpans(0).getScopeSpans(0).getSpans(0);
        assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, span.getKind());
        assertEquals(Status.StatusCode.STATUS_CODE_ERROR, span.getStatus().getCode());

        Sum sum = ((ExportMetricsServiceRequest) parse(OtlpSignal.METRICS, """
                {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":
                  {"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}}]}]}]}
                """)).getResourceMetrics(0).getScopeMetrics(0).getMetrics(0).getSum();
        assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, sum.getAggregationTemporality());
    }

    @Test
    void acceptsSnakeCaseNames() throws Exception {
        Span span = ((ExportTraceServiceRequest) parse(OtlpSignal.TRACES, """
                {"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",
                  "span_id":"eee19b7ec3c1b174","parent_span_id":"EEE19B7EC3C1B173","start_time_unix_nano":"7"}]}]}]}
                """)).getResourceSpans(0).getScopeSpans(0).getSpans(0);
        assertEquals(bytes(TRACE_ID), span.getTraceId());
        assertEquals(bytes(SPAN_ID), span.getSpanId());
        assertEquals(bytes(PARENT_SPAN_ID), span.getParentSpanId());
        assertEquals(7, span.getStartTimeUnixNano());
    }

    @Test
    void ignoresUnknownFields() throws Exception {
        Message parsed = parse(OtlpSignal.TRACES, """
                {"futureTopLevel":{"traceId":"not hex at all"},
                 "resourceSpans":[{"resource":{"newThing":[1,2,{"x":null}]},
                   "scopeSpans":[{"spans":[{"name":"s","traceId":"5b8efff798038103d269b633813fc60c",
                     "futureSpanField":"x","futureId":"zz"}]}]}]}
                """);
        Span span = ((ExportTraceServiceRequest) parsed).getResourceSpans(0).getScopeSpans(0).getSpans(0);
        assertEquals("s", span.getName());
        assertEquals(bytes(TRACE_ID), span.getTraceId());
        assertEquals(Resource.getDefaultInstance(), ((ExportTraceServiceRequest) parsed).getResourceSpans(0).getResource());
    }

    @Test
    void idsAreCaseInsensitive() throws Exception {
        String upper = TRACE_ID.toUpperCase();
        String mixed = "5B8efff798038103d269b633813FC60c";
        for (String id : new String[] {upper, mixed}) {
            LogRecord log = ((ExportLogsServiceRequest) parse(OtlpSignal.LOGS,
                    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"" + id + "\"}]}]}]}"))
                    .getResourceLogs(0).getScopeLogs(0).getLogRecords(0);
            assertEquals(bytes(TRACE_ID), log.getTraceId(), id);
        }
    }

    // ---- what is refused ----

    @ParameterizedTest
    @ValueSource(strings = {
        "\"abc\"",
        "\"5b8efff798038103d269b633813fc6\"",                 // 30 digits
        "\"5b8efff798038103d269b633813fc60c00\"",             // 34 digits
        "\"5b8efff798038103d269b633813fc60g\"",               // 32, one not hex
        "\"W47/95gDgQPSabYzgT/GDA==\"",                       // the same id in base64
        "123",
        "[\"5b8efff798038103d269b633813fc60c\"]",
    })
    void refusesTraceIdsThatAreNot32HexDigits(String traceId) {
        String json = """
                {"resourceSpans":[{"scopeSpans":[{"spans":[]},{"spans":[{},{},{"traceId":"%s"},
                  {"traceId":%s}]}]}]}
                """.formatted(TRACE_ID, traceId);

        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                () -> parse(OtlpSignal.TRACES, json));

        assertEquals("resourceSpans[0].scopeSpans[1].spans[3].traceId: " + traceId + " is not 32 hex digits",
                e.getMessage());
    }

    @Test
    void namesThePathOfEachKindOfId() {
        assertRefused(OtlpSignal.TRACES,
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"eee19b7ec3c1b1\"}]}]}]}",
                "resourceSpans[0].scopeSpans[0].spans[0].spanId: \"eee19b7ec3c1b1\" is not 16 hex digits");
        assertRefused(OtlpSignal.TRACES,
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"parent_span_id\":\"x\"}]}]}]}",
                "resourceSpans[0].scopeSpans[0].spans[0].parent_span_id: \"x\" is not 16 hex digits");
        assertRefused(OtlpSignal.TRACES,
                "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"links\":[{},{\"traceId\":\"eee19b7ec3c1b174\"}]}]}]}]}",
                "resourceSpans[0].scopeSpans[0].spans[0].links[1].traceId: \"eee19b7ec3c1b174\" is not 32 hex digits");
        assertRefused(OtlpSignal.LOGS,
                "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":\"" + TRACE_ID + "\"}]}]}]}",
                "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: \"" + TRACE_ID + "\" is not 16 hex digits");
        assertRefused(OtlpSignal.METRICS, """
                {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"exemplars":
                  [{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17z"}]}]}}]}]}]}
                """, "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].exemplars[0].spanId: "
                + "\"eee19b7ec3c1b17z\" is not 16 hex digits");
    }

    @Test
    void quotesLongOrHostileIdsShortAndOnOneLine() {
        String json = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"line\\nbreak"
                + "x".repeat(10_000) + "\"}]}]}]}";
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                () -> parse(OtlpSignal.LOGS, json));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().length() < 200, e.getMessage());
        assertTrue(e.getMessage().startsWith("resourceLogs[0].scopeLogs[0].logRecords[0].traceId: \"line\\nbreak"),
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "not json",
        "{",
        "{\"resourceLogs\":[]",
        "{} {}",
        "{\"resourceLogs\":[],}",
        "{'resourceLogs':[]}",
        "[]",
        "[{\"resourceLogs\":[]}]",
        "\"resourceLogs\"",
        "42",
        "null",
    })
    void refusesWhatIsNotOneJsonObject(String body) {
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                () -> parse(OtlpSignal.LOGS, body));
        assertFalse(e.getMessage().isBlank());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void saysWhyABodyIsNotOneJsonObject() {
        assertRefused(OtlpSignal.LOGS, "[{\"resourceLogs\":[]}]", "not a JSON object: [{\"resourceLogs\":[]}]");
        assertRefused(OtlpSignal.LOGS, "{} {}", "not JSON: more after the top-level value at line 1, column 4");
        assertRefused(OtlpSignal.LOGS, "{\"resourceLogs\":[]",
                "not JSON: Unexpected end-of-input: expected close marker for Object at line 1, column 19");
        assertRefused(OtlpSignal.LOGS, " ", "not JSON: empty");
    }

    @Test
    void namesThePathOfOtherBytesThatAreNotBase64() {
        assertRefused(OtlpSignal.LOGS, """
                {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"arrayValue":{"values":[
                  {"bytesValue":"AAEC/w=="},{"bytesValue":"AAEC_w"},{"bytesValue":"00 01"}]}}}]}]}]}
                """, "resourceLogs[0].scopeLogs[0].logRecords[0].body.arrayValue.values[2].bytesValue: \"00 01\" "
                + "is not base64");
    }

    @Test
    void refusesInvalidUtf8() {
        byte[] valid = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"ab\"}}]}]}]}"
                .getBytes(UTF_8);
        int a = new String(valid, UTF_8).indexOf("ab");
        byte[][] broken = {
            {(byte) 0xc3, (byte) 0x28},             // a 2-byte sequence with no continuation
            {(byte) 0xff, (byte) 0x41},             // never valid in UTF-8
            {(byte) 0xc0, (byte) 0xaf},             // overlong '/'
            {(byte) 0xed, (byte) 0xa0},             // start of a UTF-16 surrogate (CESU-8), with "b" after it
        };
        for (byte[] bad : broken) {
            byte[] body = valid.clone();
            body[a] = bad[0];
            body[a + 1] = bad[1];
            OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                    () -> OtlpJson.parse(OtlpSignal.LOGS, body), HexFormat.of().formatHex(bad));
            assertEquals("not UTF-8: invalid byte sequence at offset " + a, e.getMessage());
        }
        byte[] utf16 = "{\"resourceLogs\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_16BE);
        assertThrows(OtlpJson.InvalidJsonException.class, () -> OtlpJson.parse(OtlpSignal.LOGS, utf16));
    }

    @Test
    void refusesDeepNestingWithoutRecursingIntoIt() {
        String arrays = "[".repeat(10_000) + "]".repeat(10_000);
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                () -> parse(OtlpSignal.LOGS, "{\"resourceLogs\":" + arrays + "}"));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());

        // the same attack in the shape a kvlist body takes: 2,500 kvlists are 10,000 levels
        String open = "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":";
        String close = "}]}}";
        String kvlists = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
                + open.repeat(2_500) + "{\"stringValue\":\"leaf\"}" + close.repeat(2_500) + "}]}]}]}";
        e = assertThrows(OtlpJson.InvalidJsonException.class, () -> parse(OtlpSignal.LOGS, kvlists));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());

        String unclosed = "{\"a\":".repeat(10_000);
        assertThrows(OtlpJson.InvalidJsonException.class, () -> parse(OtlpSignal.LOGS, unclosed));
    }

    @Test
    void turnsJsonFormatErrorsIntoOneLineMessages() {
        String[] bodies = {
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"soon\"}]}]}]}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"-1\"}]}]}]}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"intValue\":1.5}}]}]}]}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\","
                    + "\"value\":[" + "1,".repeat(1000) + "1]}]}}}]}]}]}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"doubleValue\":1e400}}]}]}]}",
            "{\"resourceLogs\":{\"scopeLogs\":[]}}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"" + TRACE_ID + "\",\"trace_id\":\""
                    + TRACE_ID + "\"}]}]}]}",
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"a\",\"intValue\":1}}]}]}]}",
        };
        for (String body : bodies) {
            OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class,
                    () -> parse(OtlpSignal.LOGS, body), body);
            assertFalse(e.getMessage().isBlank(), body);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().length() <= 303, e.getMessage());
        }
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class, () -> parse(
                OtlpSignal.LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"soon\"}]}]}]}"));
        assertTrue(e.getMessage().contains("\"soon\""), e.getMessage());
    }

    // ---- helpers ----

    private static Message parse(OtlpSignal signal, String json) throws OtlpJson.InvalidJsonException {
        return OtlpJson.parse(signal, json.getBytes(UTF_8));
    }

    private static String printed(Message message) {
        return new String(OtlpJson.print(message), UTF_8);
    }

    private static void assertRefused(OtlpSignal signal, String json, String message) {
        OtlpJson.InvalidJsonException e = assertThrows(OtlpJson.InvalidJsonException.class, () -> parse(signal, json));
        assertEquals(message, e.getMessage());
    }

    private static ByteString bytes(String hex) {
        return ByteString.copyFrom(HexFormat.of().parseHex(hex));
    }

    private static AnyValue string(String value) {
        return AnyValue.newBuilder().setStringValue(value).build();
    }

    private static AnyValue kvlist(KeyValue... values) {
        return AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder().addAllValues(java.util.List.of(values)))
                .build();
    }

    private static KeyValue attribute(String key, AnyValue value) {
        return KeyValue.newBuilder().setKey(key).setValue(value).build();
    }

    private static Resource resource() {
        return Resource.newBuilder().addAttributes(attribute("service.name", string("checkout"))).build();
    }

    private static InstrumentationScope scope() {
        return InstrumentationScope.newBuilder().setName("my.library").setVersion("1.0.0").build();
    }

    private static ExportLogsServiceRequest logsRequest() {
        AnyValue body = kvlist(
                attribute("message", string("grüße ✓ \"quoted\"\n")),
                attribute("payload", AnyValue.newBuilder()
                        .setBytesValue(ByteString.copyFrom(new byte[] {0, 1, 2, (byte) 0xff})).build()),
                attribute("nested", kvlist(
                        attribute("min", AnyValue.newBuilder().setIntValue(Long.MIN_VALUE).build()),
                        attribute("deeper", kvlist(attribute("max", AnyValue.newBuilder().setIntValue(Long.MAX_VALUE)
                                .build()))))),
                attribute("list", AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
                        .addValues(AnyValue.newBuilder().setBoolValue(true))
                        .addValues(AnyValue.newBuilder().setDoubleValue(0.1))).build()));
        return ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(ResourceLogs.newBuilder()
                        .setResource(resource())
                        .addScopeLogs(ScopeLogs.newBuilder()
                                .setScope(scope())
                                .addLogRecords(LogRecord.newBuilder()
                                        .setTimeUnixNano(1544712660300000000L)
                                        .setObservedTimeUnixNano(-1L)
                                        .setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_WARN)
                                        .setSeverityText("WARN")
                                        .setTraceId(bytes(TRACE_ID))
                                        .setSpanId(bytes(SPAN_ID))
                                        .setFlags(1)
                                        .setEventName("checkout.failed")
                                        .setBody(body)
                                        .addAttributes(attribute("http.status", AnyValue.newBuilder()
                                                .setIntValue(503).build())))
                                .addLogRecords(LogRecord.newBuilder().setBody(string("no ids")))))
                .build();
    }

    private static ExportTraceServiceRequest tracesRequest() {
        return ExportTraceServiceRequest.newBuilder()
                .addResourceSpans(ResourceSpans.newBuilder()
                        .setResource(resource())
                        .addScopeSpans(ScopeSpans.newBuilder()
                                .setScope(scope())
                                .addSpans(Span.newBuilder()
                                        .setTraceId(bytes(TRACE_ID))
                                        .setSpanId(bytes(SPAN_ID))
                                        .setParentSpanId(bytes(PARENT_SPAN_ID))
                                        .setName("GET /cart")
                                        .setKind(Span.SpanKind.SPAN_KIND_SERVER)
                                        .setStartTimeUnixNano(1544712660000000000L)
                                        .setEndTimeUnixNano(1544712661000000000L)
                                        .setFlags(0x301)
                                        .addAttributes(attribute("retries", AnyValue.newBuilder()
                                                .setIntValue(9_007_199_254_740_993L).build()))
                                        .addEvents(Span.Event.newBuilder().setName("exception")
                                                .setTimeUnixNano(1544712660500000000L))
                                        .addLinks(Span.Link.newBuilder()
                                                .setTraceId(bytes(LINKED_TRACE_ID))
                                                .setSpanId(bytes(LINKED_SPAN_ID))
                                                .setTraceState("vendor=1"))
                                        .setStatus(Status.newBuilder()
                                                .setCode(Status.StatusCode.STATUS_CODE_ERROR)
                                                .setMessage("boom")))))
                .build();
    }

    private static ExportMetricsServiceRequest metricsRequest() {
        NumberDataPoint.Builder counted = NumberDataPoint.newBuilder()
                .setStartTimeUnixNano(1544712660000000000L)
                .setTimeUnixNano(1544712660300000000L)
                .setAsInt(Long.MAX_VALUE)
                .addAttributes(attribute("host", string("a")))
                .addExemplars(Exemplar.newBuilder()
                        .setTimeUnixNano(1544712660300000000L)
                        .setAsInt(-7)
                        .setSpanId(bytes(SPAN_ID))
                        .setTraceId(bytes(TRACE_ID)));
        return ExportMetricsServiceRequest.newBuilder()
                .addResourceMetrics(ResourceMetrics.newBuilder()
                        .setResource(resource())
                        .addScopeMetrics(ScopeMetrics.newBuilder()
                                .setScope(scope())
                                .addMetrics(Metric.newBuilder().setName("requests").setUnit("1")
                                        .setSum(Sum.newBuilder()
                                                .setAggregationTemporality(
                                                        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                                                .setIsMonotonic(true)
                                                .addDataPoints(counted)))
                                .addMetrics(Metric.newBuilder().setName("temperature")
                                        .setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder()
                                                .setTimeUnixNano(1544712660300000000L).setAsDouble(-12.25))))
                                .addMetrics(Metric.newBuilder().setName("latency").setUnit("ms")
                                        .setHistogram(Histogram.newBuilder()
                                                .setAggregationTemporality(
                                                        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
                                                .addDataPoints(HistogramDataPoint.newBuilder()
                                                        .setCount(-2L) // 2^64 - 2 unsigned
                                                        .setSum(3.5)
                                                        .addBucketCounts(1).addBucketCounts(-1L)
                                                        .addExplicitBounds(1.0)
                                                        .setMin(0.5).setMax(3.0))))
                                .addMetrics(Metric.newBuilder().setName("sizes")
                                        .setExponentialHistogram(ExponentialHistogram.newBuilder()
                                                .setAggregationTemporality(
                                                        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
                                                .addDataPoints(ExponentialHistogramDataPoint.newBuilder()
                                                        .setScale(-3).setCount(4).setZeroCount(1)
                                                        .setPositive(ExponentialHistogramDataPoint.Buckets.newBuilder()
                                                                .setOffset(-2).addBucketCounts(3)))))
                                .addMetrics(Metric.newBuilder().setName("summary")
                                        .setSummary(Summary.newBuilder().addDataPoints(SummaryDataPoint.newBuilder()
                                                .setCount(10).setSum(55)
                                                .addQuantileValues(SummaryDataPoint.ValueAtQuantile.newBuilder()
                                                        .setQuantile(0.99).setValue(9.9)))))))
                .build();
    }
}
