package dev.holdfast.intake.otlp;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.forwarder.EventRecords;
import dev.holdfast.forwarder.OtlpRecords;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.config.IntakeConfig.Otlp.Topics;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.LogsData;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.MetricsData;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.TracesData;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real OpenTelemetry Java SDK and its OTLP exporters (gRPC, and HTTP/protobuf) against a real intake that
 * forwards to a real Kafka broker. What the SDK reports as exported ({@link CompletableResultCode#isSuccess()}) must be on the signal's topic,
 * one Kafka record per resource of each export request (keyed by service.name, with a holdfast.event_id header),
 * decoding to exactly what the SDK sent: bodies, severities, attributes, ids, timestamps, metric points.
 *
 * <p>Each case has an intake of its own with topics of its own (so a count is exact); the broker is shared. Without
 * compression, the SDK's collected data of two services goes out through {@code exporter.export(...)} directly, so
 * every request carries two resources (two Kafka records); with gzip, the SDK's own pipeline (batch processors,
 * periodic reader) exports one resource per request, at {@code replicated} durability: a success means Kafka has it,
 * so the topic's end offsets must cover every record at the moment the SDK reports success, without waiting.
 */
class OtlpSdkExportTest {
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;
    private static KafkaBrokerProcess broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBrokerProcess(tmp.resolve("kafka"), 0);
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    // ---------------------------------------------------------------- logs

    @Test
    void logsOverGrpc() throws Exception {
        logs("logs-grpc", Transport.GRPC, false, Durability.FSYNC);
    }

    @Test
    void logsOverGrpcGzipReplicated() throws Exception {
        logs("logs-grpc-gzip", Transport.GRPC, true, Durability.REPLICATED);
    }

    @Test
    void logsOverHttp() throws Exception {
        logs("logs-http", Transport.HTTP, false, Durability.FSYNC);
    }

    @Test
    void logsOverHttpGzipReplicated() throws Exception {
        logs("logs-http-gzip", Transport.HTTP, true, Durability.REPLICATED);
    }

    private void logs(String name, Transport transport, boolean gzip, Durability durability) throws Exception {
        Topics topics = topics(name);
        try (IntakeServer intake = intake(name, durability, topics, transport);
             TopicReader reader = new TopicReader(topics.logs())) {
            LogRecordExporter exporter = logExporter(transport, gzip, intake);
            List<Sent<LogRecordData>> sent = new ArrayList<>();
            List<String> bodies = new ArrayList<>();
            if (gzip) {
                // the SDK's pipeline: a batch processor per service, small batches so there are several requests
                RecordingLogs recording = new RecordingLogs(exporter, sent);
                for (String service : services(name)) {
                    SdkLoggerProvider provider = SdkLoggerProvider.builder().setResource(resource(service))
                            .addLogRecordProcessor(BatchLogRecordProcessor.builder(recording)
                                    .setMaxExportBatchSize(7).setScheduleDelay(Duration.ofHours(1)).build())
                            .build();
                    emitLogs(provider, service, 20, bodies);
                    assertTrue(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess(), "forceFlush");
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
            } else {
                // the SDK collects; we export its records ourselves, both services in every request
                List<LogRecordData> collected = Collections.synchronizedList(new ArrayList<>());
                for (String service : services(name)) {
                    InMemoryLogRecordExporter memory = InMemoryLogRecordExporter.create();
                    SdkLoggerProvider provider = SdkLoggerProvider.builder().setResource(resource(service))
                            .addLogRecordProcessor(SimpleLogRecordProcessor.create(memory))
                            .build();
                    emitLogs(provider, service, 20, bodies);
                    collected.addAll(memory.getFinishedLogRecordItems()); // before shutdown, which clears them
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
                for (List<LogRecordData> request : interleaved(collected, 4, r -> r.getResource())) {
                    sent.add(new Sent<>(request, exporter.export(request)));
                }
            }
            List<ConsumerRecord<byte[], byte[]>> records = delivered(reader, sent, LogRecordData::getResource,
                    durability);
            exporter.shutdown().join(10, TimeUnit.SECONDS);
            List<LogRecordData> exported = items(sent);
            assertEquals(new LinkedHashSet<>(bodies), bodies(exported),
                    "the SDK exported other log records than were emitted");
            assertEquals(14, exported.stream().filter(l -> l.getSpanContext().isValid()).count(),
                    "log records emitted in a span");

            List<String> delivered = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                LogsData data = LogsData.parseFrom(r.value());
                assertEquals(1, data.getResourceLogsCount(), "one resource per Kafka record");
                ResourceLogs rl = data.getResourceLogs(0);
                String service = checkRecord(r, "logs", rl.getResource(), exported.stream().map(LogRecordData::getResource).toList());
                for (ScopeLogs sl : rl.getScopeLogsList()) {
                    for (LogRecord log : sl.getLogRecordsList()) {
                        delivered.add(log(service, sl.getScope(), log));
                    }
                }
            }
            assertSameItems(exported.stream().map(OtlpSdkExportTest::log).toList(), delivered, "log records");
        }
    }

    private static void emitLogs(SdkLoggerProvider provider, String service, int count, List<String> bodies) {
        Logger logger = provider.loggerBuilder("holdfast.sdk-test").setInstrumentationVersion("1.2.3").build();
        // a tracer provider without processors makes no-op spans: this one keeps its spans, unused
        Tracer tracer = SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
                .build().get("holdfast.sdk-test");
        Severity[] severities = {Severity.INFO, Severity.WARN, Severity.ERROR, Severity.DEBUG, Severity.FATAL};
        io.opentelemetry.api.trace.Span span = tracer.spanBuilder("handler").startSpan();
        for (int i = 0; i < count; i++) {
            String body = service + " log " + i + " – grüße ✓";
            bodies.add(body);
            Severity severity = severities[i % severities.length];
            var builder = logger.logRecordBuilder()
                    .setBody(body)
                    .setSeverity(severity)
                    .setSeverityText(severity.name().toLowerCase())
                    .setTimestamp(1_700_000_000_000_000_000L + i * 1_000_000L, TimeUnit.NANOSECONDS)
                    .setAttribute(AttributeKey.stringKey("user.id"), "u-" + i)
                    .setAttribute(AttributeKey.longKey("attempt"), (long) i)
                    .setAttribute(AttributeKey.doubleKey("ratio"), i / 4.0)
                    .setAttribute(AttributeKey.booleanKey("retry"), i % 2 == 0)
                    .setAttribute(AttributeKey.stringArrayKey("tags"), List.of("a" + i, "b"));
            if (i % 3 == 0) {
                builder.setContext(Context.root().with(span)); // in a span: trace and span id on the record
            }
            builder.emit();
        }
        span.end();
    }

    // ---------------------------------------------------------------- traces

    @Test
    void spansOverGrpc() throws Exception {
        spans("spans-grpc", Transport.GRPC, false, Durability.FSYNC);
    }

    @Test
    void spansOverGrpcGzipReplicated() throws Exception {
        spans("spans-grpc-gzip", Transport.GRPC, true, Durability.REPLICATED);
    }

    @Test
    void spansOverHttp() throws Exception {
        spans("spans-http", Transport.HTTP, false, Durability.FSYNC);
    }

    @Test
    void spansOverHttpGzipReplicated() throws Exception {
        spans("spans-http-gzip", Transport.HTTP, true, Durability.REPLICATED);
    }

    private void spans(String name, Transport transport, boolean gzip, Durability durability) throws Exception {
        Topics topics = topics(name);
        try (IntakeServer intake = intake(name, durability, topics, transport);
             TopicReader reader = new TopicReader(topics.spans())) {
            SpanExporter exporter = spanExporter(transport, gzip, intake);
            List<Sent<SpanData>> sent = new ArrayList<>();
            List<String> names = new ArrayList<>();
            if (gzip) {
                RecordingSpans recording = new RecordingSpans(exporter, sent);
                for (String service : services(name)) {
                    SdkTracerProvider provider = SdkTracerProvider.builder().setResource(resource(service))
                            .addSpanProcessor(BatchSpanProcessor.builder(recording).setMaxExportBatchSize(5)
                                    .setScheduleDelay(Duration.ofHours(1)).build())
                            .build();
                    makeSpans(provider, service, 6, names);
                    assertTrue(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess(), "forceFlush");
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
            } else {
                List<SpanData> collected = Collections.synchronizedList(new ArrayList<>());
                for (String service : services(name)) {
                    InMemorySpanExporter memory = InMemorySpanExporter.create();
                    SdkTracerProvider provider = SdkTracerProvider.builder().setResource(resource(service))
                            .addSpanProcessor(SimpleSpanProcessor.create(memory))
                            .build();
                    makeSpans(provider, service, 6, names);
                    collected.addAll(memory.getFinishedSpanItems()); // before shutdown, which clears them
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
                for (List<SpanData> request : interleaved(collected, 3, SpanData::getResource)) {
                    sent.add(new Sent<>(request, exporter.export(request)));
                }
            }
            List<ConsumerRecord<byte[], byte[]>> records = delivered(reader, sent, SpanData::getResource, durability);
            exporter.shutdown().join(10, TimeUnit.SECONDS);
            List<SpanData> exported = items(sent);
            assertEquals(names.size(), exported.size(), "spans exported");
            assertEquals(new LinkedHashSet<>(names), new LinkedHashSet<>(exported.stream().map(SpanData::getName).toList()));

            List<String> delivered = new ArrayList<>();
            Map<String, String> parentOf = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                TracesData data = TracesData.parseFrom(r.value());
                assertEquals(1, data.getResourceSpansCount(), "one resource per Kafka record");
                ResourceSpans rs = data.getResourceSpans(0);
                String service = checkRecord(r, "traces", rs.getResource(), exported.stream().map(SpanData::getResource).toList());
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    for (io.opentelemetry.proto.trace.v1.Span span : ss.getSpansList()) {
                        delivered.add(span(service, ss.getScope(), span));
                        parentOf.put(hex(span.getSpanId()), hex(span.getParentSpanId()));
                    }
                }
            }
            assertSameItems(exported.stream().map(OtlpSdkExportTest::span).toList(), delivered, "spans");
            // the ids are the SDK's: every child names its parent's span id as the SDK made it
            for (SpanData s : exported) {
                String expectedParent = s.getParentSpanContext().isValid() ? s.getParentSpanId() : "";
                assertEquals(expectedParent, parentOf.get(s.getSpanId()), "parent of span " + s.getName());
            }
        }
    }

    private static void makeSpans(SdkTracerProvider provider, String service, int requests, List<String> names) {
        Tracer tracer = provider.tracerBuilder("holdfast.sdk-test").setInstrumentationVersion("1.2.3").build();
        for (int i = 0; i < requests; i++) {
            String rootName = service + " GET /orders/" + i;
            io.opentelemetry.api.trace.Span root = tracer.spanBuilder(rootName).setSpanKind(SpanKind.SERVER)
                    .setStartTimestamp(1_700_000_000_000L + i, TimeUnit.MILLISECONDS)
                    .setAttribute("http.route", "/orders/{id}")
                    .setAttribute(AttributeKey.longKey("http.status_code"), 200L + i)
                    .startSpan();
            try (Scope ignored = root.makeCurrent()) {
                String childName = service + " SELECT orders " + i;
                io.opentelemetry.api.trace.Span child = tracer.spanBuilder(childName).setSpanKind(SpanKind.CLIENT)
                        .setAttribute("db.system", "postgresql")
                        .setAttribute(AttributeKey.doubleKey("db.rows.ratio"), i * 0.5)
                        .startSpan();
                child.addEvent("retry", Attributes.of(AttributeKey.longKey("attempt"), (long) i));
                if (i % 2 == 1) {
                    child.setStatus(StatusCode.ERROR, "deadlock " + i);
                }
                child.end();
                names.add(childName);
            }
            root.setStatus(StatusCode.OK);
            root.end();
            names.add(rootName);
        }
    }

    // ---------------------------------------------------------------- metrics

    @Test
    void metricsOverGrpc() throws Exception {
        metrics("metrics-grpc", Transport.GRPC, false, Durability.FSYNC);
    }

    @Test
    void metricsOverGrpcGzipReplicated() throws Exception {
        metrics("metrics-grpc-gzip", Transport.GRPC, true, Durability.REPLICATED);
    }

    @Test
    void metricsOverHttp() throws Exception {
        metrics("metrics-http", Transport.HTTP, false, Durability.FSYNC);
    }

    @Test
    void metricsOverHttpGzipReplicated() throws Exception {
        metrics("metrics-http-gzip", Transport.HTTP, true, Durability.REPLICATED);
    }

    private void metrics(String name, Transport transport, boolean gzip, Durability durability) throws Exception {
        Topics topics = topics(name);
        try (IntakeServer intake = intake(name, durability, topics, transport);
             TopicReader reader = new TopicReader(topics.metrics())) {
            MetricExporter exporter = metricExporter(transport, gzip, intake);
            List<Sent<MetricData>> sent = new ArrayList<>();
            if (gzip) {
                RecordingMetrics recording = new RecordingMetrics(exporter, sent);
                for (String service : services(name)) {
                    SdkMeterProvider provider = SdkMeterProvider.builder().setResource(resource(service))
                            .registerMetricReader(PeriodicMetricReader.builder(recording)
                                    .setInterval(Duration.ofHours(1)).build())
                            .build();
                    record(provider, service);
                    assertTrue(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess(), "forceFlush");
                    record(provider, service); // a second collection: the cumulative sums go on growing
                    assertTrue(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess(), "forceFlush");
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
            } else {
                List<MetricData> collected = new ArrayList<>();
                for (String service : services(name)) {
                    InMemoryMetricReader collector = InMemoryMetricReader.create(); // cumulative, as OTLP's default
                    SdkMeterProvider provider = SdkMeterProvider.builder().setResource(resource(service))
                            .registerMetricReader(collector).build();
                    record(provider, service);
                    collected.addAll(collector.collectAllMetrics());
                    record(provider, service);
                    collected.addAll(collector.collectAllMetrics());
                    provider.shutdown().join(30, TimeUnit.SECONDS);
                }
                for (List<MetricData> request : interleaved(collected, 2, MetricData::getResource)) {
                    sent.add(new Sent<>(request, exporter.export(request)));
                }
            }
            List<ConsumerRecord<byte[], byte[]>> records = delivered(reader, sent, MetricData::getResource, durability);
            exporter.shutdown().join(10, TimeUnit.SECONDS);
            List<MetricData> exported = items(sent);

            List<String> delivered = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                MetricsData data = MetricsData.parseFrom(r.value());
                assertEquals(1, data.getResourceMetricsCount(), "one resource per Kafka record");
                ResourceMetrics rm = data.getResourceMetrics(0);
                String service = checkRecord(r, "metrics", rm.getResource(), exported.stream().map(MetricData::getResource).toList());
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric metric : sm.getMetricsList()) {
                        delivered.addAll(points(service, sm.getScope(), metric));
                    }
                }
            }
            assertSameItems(exported.stream().flatMap(m -> points(m).stream()).toList(), delivered, "metric points");
            // and the values are what was recorded: after two rounds, /a was counted 2 x 3 and /b 2 x 5
            for (String service : services(name)) {
                String requests = service + "|holdfast.sdk-test@1.2.3|sdk.requests|requests|{request}"
                        + "|sum(mono=true,CUMULATIVE)|";
                assertTrue(delivered.stream().anyMatch(x -> x.startsWith(requests + "{route=s:/a}|i:6|t=")),
                        service + " /a: " + delivered);
                assertTrue(delivered.stream().anyMatch(x -> x.startsWith(requests + "{route=s:/b}|i:10|t=")),
                        service + " /b: " + delivered);
                assertTrue(delivered.stream().anyMatch(x -> x.startsWith(service
                        + "|holdfast.sdk-test@1.2.3|sdk.queue.depth||{item}|gauge|{primary=b:true}|d:17.25|t=")),
                        service + " gauge: " + delivered);
                assertTrue(delivered.stream().anyMatch(p -> p.startsWith(service + "|holdfast.sdk-test@1.2.3|sdk.latency|")
                        && p.contains("count=8,sum=" + (2 * (3.0 + 12.5 + 40.0 + 250.0)))), service + " latency: " + delivered);
            }
        }
    }

    private static void record(SdkMeterProvider provider, String service) {
        Meter meter = provider.meterBuilder("holdfast.sdk-test").setInstrumentationVersion("1.2.3").build();
        LongCounter requests = meter.counterBuilder("sdk.requests").setDescription("requests").setUnit("{request}")
                .build();
        requests.add(3, Attributes.of(AttributeKey.stringKey("route"), "/a"));
        requests.add(5, Attributes.of(AttributeKey.stringKey("route"), "/b"));
        DoubleHistogram latency = meter.histogramBuilder("sdk.latency").setDescription("latency").setUnit("ms").build();
        for (double v : new double[]{3.0, 12.5, 40.0, 250.0}) {
            latency.record(v, Attributes.of(AttributeKey.stringKey("service"), service));
        }
        meter.gaugeBuilder("sdk.queue.depth").setUnit("{item}").build()
                .set(17.25, Attributes.of(AttributeKey.booleanKey("primary"), true));
    }

    // ---------------------------------------------------------------- the intake, the exporters, Kafka

    /** The signal topics of one case (each case its own, so what a topic holds is exactly what the case sent). */
    private static Topics topics(String name) {
        return new Topics("sdk-" + name + ".otlp.logs", "sdk-" + name + ".otlp.spans", "sdk-" + name + ".otlp.metrics");
    }

    /** An intake of its own for one case; OTLP/HTTP on a free port when the case exports over HTTP. */
    private static IntakeServer intake(String name, Durability durability, Topics topics, Transport transport)
            throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig.Otlp otlp = new IntakeConfig.Otlp(
                new IntakeConfig.Otlp.Http(transport == Transport.HTTP ? FreePorts.next() : 0), topics, "otlp_proto",
                OtlpPriorities.DEFAULTS);
        IntakeConfig cfg = new IntakeConfig("sdk-node", tmp.resolve(name), durability,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), d.limits(),
                d.wal(), d.forwarder().withKafka(broker.bootstrap(), "sdk-" + name + ".events"),
                IntakeConfig.Tls.OFF, IntakeConfig.Auth.NONE, otlp);
        return new IntakeServer(cfg, IntakeServer.newRegistry()).start();
    }


    private static List<String> services(String name) {
        return List.of(name + "-checkout", name + "-payments");
    }

    private static Resource resource(String service) {
        return Resource.getDefault().merge(Resource.create(Attributes.of(
                AttributeKey.stringKey("service.name"), service,
                AttributeKey.stringKey("deployment.environment"), "test")));
    }

    /** How the SDK sends: its OTLP/gRPC exporters, or its OTLP/HTTP ones (protobuf, the SDK's only HTTP encoding). */
    private enum Transport {
        GRPC, HTTP
    }

    private static final Duration EXPORT_TIMEOUT = Duration.ofSeconds(30);

    private static String endpoint(Transport transport, IntakeServer intake, String httpPath) {
        if (transport == Transport.GRPC) {
            return "http://127.0.0.1:" + intake.grpcPort();
        }
        assertTrue(intake.otlpHttpPort() > 0, "OTLP/HTTP is on");
        return "http://127.0.0.1:" + intake.otlpHttpPort() + httpPath;
    }

    // the exporter builders have the same setters but no common type
    private static LogRecordExporter logExporter(Transport transport, boolean gzip, IntakeServer intake) {
        String endpoint = endpoint(transport, intake, "/v1/logs");
        String compression = gzip ? "gzip" : "none";
        return transport == Transport.GRPC
                ? OtlpGrpcLogRecordExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build()
                : OtlpHttpLogRecordExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build();
    }

    private static SpanExporter spanExporter(Transport transport, boolean gzip, IntakeServer intake) {
        String endpoint = endpoint(transport, intake, "/v1/traces");
        String compression = gzip ? "gzip" : "none";
        return transport == Transport.GRPC
                ? OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build()
                : OtlpHttpSpanExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build();
    }

    private static MetricExporter metricExporter(Transport transport, boolean gzip, IntakeServer intake) {
        String endpoint = endpoint(transport, intake, "/v1/metrics");
        String compression = gzip ? "gzip" : "none";
        return transport == Transport.GRPC
                ? OtlpGrpcMetricExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build()
                : OtlpHttpMetricExporter.builder().setEndpoint(endpoint).setCompression(compression)
                .setTimeout(EXPORT_TIMEOUT).setRetryPolicy(RetryPolicy.getDefault()).build();
    }

    /** One export call: what was handed to the exporter, and what the exporter answered. */
    private record Sent<T>(List<T> items, CompletableResultCode result) {
    }

    /** Every export the SDK made must have succeeded (nothing here gives the intake a reason to refuse). */
    private static <T> void awaitSuccess(List<Sent<T>> sent) {
        assertFalse(sent.isEmpty(), "the SDK exported nothing");
        for (Sent<T> s : sent) {
            CompletableResultCode r = s.result.join(60, TimeUnit.SECONDS);
            assertTrue(r.isDone(), "an export did not finish in 60 s");
            assertTrue(r.isSuccess(), "an export of " + s.items.size() + " items failed: " + r.getFailureThrowable());
        }
    }

    private static <T> List<T> items(List<Sent<T>> sent) {
        List<T> all = new ArrayList<>();
        for (Sent<T> s : sent) {
            all.addAll(s.items);
        }
        return all;
    }

    /** Kafka records the forwarder must produce: one per resource of each export request. */
    private static <T> int resourcesIn(List<Sent<T>> sent, Function<T, Resource> resource) {
        int n = 0;
        for (Sent<T> s : sent) {
            n += (int) s.items.stream().map(resource).distinct().count();
        }
        return n;
    }

    /**
     * Requests of {@code perResource} items of each resource, the resources interleaved, so every request carries
     * every resource.
     */
    private static <T> List<List<T>> interleaved(List<T> items, int perResource, Function<T, Resource> resource) {
        Map<Resource, List<T>> byResource = new java.util.LinkedHashMap<>();
        for (T item : items) {
            byResource.computeIfAbsent(resource.apply(item), k -> new ArrayList<>()).add(item);
        }
        assertEquals(2, byResource.size(), "two services' data");
        List<List<T>> requests = new ArrayList<>();
        for (int from = 0; ; from += perResource) {
            List<T> request = new ArrayList<>();
            for (List<T> of : byResource.values()) {
                request.addAll(of.subList(Math.min(from, of.size()), Math.min(from + perResource, of.size())));
            }
            if (request.isEmpty()) {
                return requests;
            }
            requests.add(request);
        }
    }

    /**
     * A consumer of one signal topic, made before the case exports (so nothing stands between the SDK's success and
     * the look at the topic's end offsets): the forwarder creates the topic when the intake starts.
     */
    private static final class TopicReader implements AutoCloseable {
        private final String topic;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final List<TopicPartition> partitions = new ArrayList<>();

        TopicReader(String topic) {
            this.topic = topic;
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
            p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            long deadline = System.nanoTime() + DELIVERY_TIMEOUT.toNanos();
            while (partitions.isEmpty()) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                if (infos != null) {
                    for (PartitionInfo info : infos) {
                        partitions.add(new TopicPartition(topic, info.partition()));
                    }
                }
                assertTrue(!partitions.isEmpty() || System.nanoTime() < deadline, "topic " + topic + " never appeared");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        /** How many records the topic holds now (end minus beginning offsets: what a consumer can read). */
        long presentNow() {
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            long present = 0;
            for (TopicPartition tp : partitions) {
                present += end.get(tp) - begin.get(tp);
            }
            return present;
        }

        /** Reads from the beginning until {@code expected} records, then lingers a little so one too many shows. */
        List<ConsumerRecord<byte[], byte[]>> read(int expected) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + DELIVERY_TIMEOUT.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            long linger = System.nanoTime() + Duration.ofMillis(500).toNanos();
            while (System.nanoTime() < linger) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            assertEquals(expected, records.size(), "Kafka records in " + topic
                    + " (one per resource of every successful export)");
            return records;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    /**
     * The topic's records once every export succeeded. At {@code replicated} durability the SDK was told success only
     * once Kafka confirmed, so the end offsets must cover every record already, before any wait.
     */
    private static <T> List<ConsumerRecord<byte[], byte[]>> delivered(TopicReader reader, List<Sent<T>> sent,
                                                                      Function<T, Resource> resource,
                                                                      Durability durability) {
        awaitSuccess(sent);
        long present = reader.presentNow();
        int expected = resourcesIn(sent, resource);
        if (durability == Durability.REPLICATED) {
            assertEquals(expected, present, "records in " + reader.topic + " the moment the SDK was told success"
                    + " (replicated durability: Kafka must have had every one)");
        }
        return reader.read(expected);
    }

    /**
     * The checks every OTLP Kafka record gets: key = service.name, the event id and signal headers, and a resource
     * equal to the one the SDK exported. Returns the service.
     */
    private static String checkRecord(ConsumerRecord<byte[], byte[]> r, String signal,
                                      io.opentelemetry.proto.resource.v1.Resource resource,
                                      Collection<Resource> exportedResources) {
        String service = null;
        for (KeyValue kv : resource.getAttributesList()) {
            if (kv.getKey().equals("service.name")) {
                service = kv.getValue().getStringValue();
            }
        }
        assertNotNull(service, "a resource without service.name: " + resource);
        assertEquals(service, new String(r.key(), StandardCharsets.UTF_8), "record key = service.name");
        Header eventId = r.headers().lastHeader(EventRecords.EVENT_ID);
        assertNotNull(eventId, "holdfast.event_id header");
        assertTrue(new String(eventId.value(), StandardCharsets.US_ASCII).matches("otlp-" + signal + "-[0-9a-f]{32}"),
                new String(eventId.value(), StandardCharsets.US_ASCII));
        Header signalHeader = r.headers().lastHeader(OtlpRecords.SIGNAL);
        assertNotNull(signalHeader, "holdfast.signal header");
        assertEquals(signal, new String(signalHeader.value(), StandardCharsets.US_ASCII));
        String finalService = service;
        Resource sdk = exportedResources.stream()
                .filter(x -> finalService.equals(x.getAttribute(AttributeKey.stringKey("service.name"))))
                .findFirst().orElseThrow(() -> new AssertionError("no exported resource for " + finalService));
        assertEquals(attributes(sdk.getAttributes()), attributes(resource.getAttributesList()), "resource attributes");
        return service;
    }

    /** The same multiset: nothing missing, nothing extra, nothing twice. */
    private static void assertSameItems(List<String> exported, List<String> delivered, String what) {
        Map<String, Integer> want = count(exported);
        Map<String, Integer> got = count(delivered);
        List<String> missing = new ArrayList<>();
        List<String> extra = new ArrayList<>();
        for (Map.Entry<String, Integer> e : want.entrySet()) {
            int have = got.getOrDefault(e.getKey(), 0);
            for (int i = have; i < e.getValue(); i++) missing.add(e.getKey());
        }
        for (Map.Entry<String, Integer> e : got.entrySet()) {
            int wanted = want.getOrDefault(e.getKey(), 0);
            for (int i = wanted; i < e.getValue(); i++) extra.add(e.getKey());
        }
        assertTrue(missing.isEmpty() && extra.isEmpty(), what + ": " + exported.size() + " exported, "
                + delivered.size() + " in Kafka; missing " + missing + "; not exported (or twice) " + extra);
    }

    private static Map<String, Integer> count(List<String> items) {
        Map<String, Integer> m = new TreeMap<>();
        for (String s : items) m.merge(s, 1, Integer::sum);
        return m;
    }

    // ---------------------------------------------------------------- one text per item, from either side

    private static Set<String> bodies(List<LogRecordData> logs) {
        Set<String> s = new LinkedHashSet<>();
        for (LogRecordData l : logs) s.add(String.valueOf(l.getBodyValue().getValue()));
        return s;
    }

    private static String log(LogRecordData l) {
        return String.join("|", service(l.getResource()), scope(l.getInstrumentationScopeInfo()),
                Long.toString(l.getTimestampEpochNanos()), Long.toString(l.getObservedTimestampEpochNanos()),
                Integer.toString(l.getSeverity().getSeverityNumber()), l.getSeverityText(),
                String.valueOf(l.getBodyValue().getValue()),
                l.getSpanContext().isValid() ? l.getSpanContext().getTraceId() : "-",
                l.getSpanContext().isValid() ? l.getSpanContext().getSpanId() : "-",
                attributes(l.getAttributes()));
    }

    private static String log(String service, InstrumentationScope scope, LogRecord l) {
        assertEquals(AnyValue.ValueCase.STRING_VALUE, l.getBody().getValueCase(), "a string body");
        return String.join("|", service, scope(scope), Long.toString(l.getTimeUnixNano()),
                Long.toString(l.getObservedTimeUnixNano()), Integer.toString(l.getSeverityNumberValue()),
                l.getSeverityText(), l.getBody().getStringValue(),
                l.getTraceId().isEmpty() ? "-" : hex(l.getTraceId()), l.getSpanId().isEmpty() ? "-" : hex(l.getSpanId()),
                attributes(l.getAttributesList()));
    }

    private static String span(SpanData s) {
        List<String> events = new ArrayList<>();
        for (EventData e : s.getEvents()) {
            events.add(e.getName() + "@" + e.getEpochNanos() + attributes(e.getAttributes()));
        }
        return String.join("|", service(s.getResource()), scope(s.getInstrumentationScopeInfo()), s.getName(),
                s.getKind().name(), s.getTraceId(), s.getSpanId(),
                s.getParentSpanContext().isValid() ? s.getParentSpanId() : "-",
                Long.toString(s.getStartEpochNanos()), Long.toString(s.getEndEpochNanos()),
                s.getStatus().getStatusCode().name(), s.getStatus().getDescription(),
                attributes(s.getAttributes()), events.toString());
    }

    private static String span(String service, InstrumentationScope scope, io.opentelemetry.proto.trace.v1.Span s) {
        List<String> events = new ArrayList<>();
        for (io.opentelemetry.proto.trace.v1.Span.Event e : s.getEventsList()) {
            events.add(e.getName() + "@" + e.getTimeUnixNano() + attributes(e.getAttributesList()));
        }
        return String.join("|", service, scope(scope), s.getName(), s.getKind().name().replace("SPAN_KIND_", ""),
                hex(s.getTraceId()), hex(s.getSpanId()), s.getParentSpanId().isEmpty() ? "-" : hex(s.getParentSpanId()),
                Long.toString(s.getStartTimeUnixNano()), Long.toString(s.getEndTimeUnixNano()),
                s.getStatus().getCode().name().replace("STATUS_CODE_", ""), s.getStatus().getMessage(),
                attributes(s.getAttributesList()), events.toString());
    }

    /** One text per data point of a metric the SDK exported. */
    private static List<String> points(MetricData m) {
        String head = String.join("|", service(m.getResource()), scope(m.getInstrumentationScopeInfo()), m.getName(),
                m.getDescription(), m.getUnit());
        List<String> out = new ArrayList<>();
        switch (m.getType()) {
            case LONG_SUM -> {
                SumData<LongPointData> sum = m.getLongSumData();
                for (LongPointData p : sum.getPoints()) {
                    out.add(head + "|" + sumKind(sum.isMonotonic(), sum.getAggregationTemporality()) + "|"
                            + attributes(p.getAttributes()) + "|i:" + p.getValue() + time(p.getStartEpochNanos(),
                            p.getEpochNanos()));
                }
            }
            case DOUBLE_GAUGE -> {
                for (DoublePointData p : m.getDoubleGaugeData().getPoints()) {
                    out.add(head + "|gauge|" + attributes(p.getAttributes()) + "|d:" + p.getValue()
                            + time(p.getStartEpochNanos(), p.getEpochNanos()));
                }
            }
            case HISTOGRAM -> {
                for (HistogramPointData p : m.getHistogramData().getPoints()) {
                    out.add(head + "|histogram(" + m.getHistogramData().getAggregationTemporality() + ")|"
                            + attributes(p.getAttributes()) + "|" + histogram(p.getCount(), p.getSum(),
                            p.getBoundaries(), p.getCounts(), p.hasMin() ? p.getMin() : null,
                            p.hasMax() ? p.getMax() : null) + time(p.getStartEpochNanos(), p.getEpochNanos()));
                }
            }
            default -> fail("a metric type this test does not record: " + m.getType());
        }
        return out;
    }

    /** The same texts from what Kafka holds. */
    private static List<String> points(String service, InstrumentationScope scope, Metric m) {
        String head = String.join("|", service, scope(scope), m.getName(), m.getDescription(), m.getUnit());
        List<String> out = new ArrayList<>();
        switch (m.getDataCase()) {
            case SUM -> {
                String kind = sumKind(m.getSum().getIsMonotonic(), AggregationTemporality.valueOf(
                        m.getSum().getAggregationTemporality().name().replace("AGGREGATION_TEMPORALITY_", "")));
                for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                    out.add(head + "|" + kind + "|" + attributes(p.getAttributesList()) + "|" + number(p)
                            + time(p.getStartTimeUnixNano(), p.getTimeUnixNano()));
                }
            }
            case GAUGE -> {
                for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
                    out.add(head + "|gauge|" + attributes(p.getAttributesList()) + "|" + number(p)
                            + time(p.getStartTimeUnixNano(), p.getTimeUnixNano()));
                }
            }
            case HISTOGRAM -> {
                String temporality = m.getHistogram().getAggregationTemporality().name()
                        .replace("AGGREGATION_TEMPORALITY_", "");
                for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                    assertTrue(p.hasSum(), "histogram sum");
                    out.add(head + "|histogram(" + temporality + ")|" + attributes(p.getAttributesList()) + "|"
                            + histogram(p.getCount(), p.getSum(), p.getExplicitBoundsList(), p.getBucketCountsList(),
                            p.hasMin() ? p.getMin() : null, p.hasMax() ? p.getMax() : null)
                            + time(p.getStartTimeUnixNano(), p.getTimeUnixNano()));
                }
            }
            default -> fail("unexpected metric data in Kafka: " + m.getDataCase());
        }
        return out;
    }

    private static String sumKind(boolean monotonic, AggregationTemporality temporality) {
        return "sum(mono=" + monotonic + "," + temporality.name() + ")";
    }

    private static String number(NumberDataPoint p) {
        return switch (p.getValueCase()) {
            case AS_INT -> "i:" + p.getAsInt();
            case AS_DOUBLE -> "d:" + p.getAsDouble();
            case VALUE_NOT_SET -> "none";
        };
    }

    private static String histogram(long count, double sum, List<Double> bounds, List<Long> counts, Double min,
                                     Double max) {
        return "count=" + count + ",sum=" + sum + ",bounds=" + bounds + ",counts=" + counts + ",min=" + min
                + ",max=" + max;
    }

    /** Kept out of the value texts that the value checks match on, but compared all the same. */
    private static String time(long start, long at) {
        return "|t=" + start + ".." + at;
    }

    private static String service(Resource r) {
        return r.getAttribute(AttributeKey.stringKey("service.name"));
    }

    private static String scope(InstrumentationScopeInfo s) {
        return s.getName() + "@" + (s.getVersion() == null ? "" : s.getVersion());
    }

    private static String scope(InstrumentationScope s) {
        return s.getName() + "@" + s.getVersion();
    }

    private static String attributes(Attributes attributes) {
        Map<String, String> m = new TreeMap<>();
        attributes.forEach((k, v) -> m.put(k.getKey(), typed(k.getType(), v)));
        return m.toString();
    }

    private static String typed(AttributeType type, Object v) {
        return switch (type) {
            case STRING -> "s:" + v;
            case LONG -> "i:" + v;
            case DOUBLE -> "d:" + v;
            case BOOLEAN -> "b:" + v;
            case STRING_ARRAY -> "as:" + v;
            case LONG_ARRAY -> "ai:" + v;
            default -> "?" + type + ":" + v;
        };
    }

    private static String attributes(List<KeyValue> kvs) {
        Map<String, String> m = new TreeMap<>();
        for (KeyValue kv : kvs) {
            assertNull(m.put(kv.getKey(), typed(kv.getValue())), "attribute " + kv.getKey() + " twice");
        }
        return m.toString();
    }

    private static String typed(AnyValue v) {
        switch (v.getValueCase()) {
            case STRING_VALUE:
                return "s:" + v.getStringValue();
            case INT_VALUE:
                return "i:" + v.getIntValue();
            case DOUBLE_VALUE:
                return "d:" + v.getDoubleValue();
            case BOOL_VALUE:
                return "b:" + v.getBoolValue();
            case ARRAY_VALUE: {
                List<AnyValue> values = v.getArrayValue().getValuesList();
                List<Object> plain = new ArrayList<>();
                String prefix = "as:";
                for (AnyValue e : values) {
                    if (e.getValueCase() == AnyValue.ValueCase.INT_VALUE) {
                        prefix = "ai:";
                        plain.add(e.getIntValue());
                    } else {
                        plain.add(e.getStringValue());
                    }
                }
                return prefix + plain;
            }
            default:
                return "?" + v.getValueCase() + ":" + v;
        }
    }

    private static String hex(com.google.protobuf.ByteString bytes) {
        return HexFormat.of().formatHex(bytes.toByteArray());
    }

    // ---------------------------------------------------------------- SDK plumbing: recording and collecting

    /** In front of the real exporter in the SDK's pipeline: records each export call and the exporter's answer. */
    private static final class RecordingLogs implements LogRecordExporter {
        private final LogRecordExporter real;
        private final List<Sent<LogRecordData>> sent;

        RecordingLogs(LogRecordExporter real, List<Sent<LogRecordData>> sent) {
            this.real = real;
            this.sent = sent;
        }

        @Override
        public CompletableResultCode export(Collection<LogRecordData> logs) {
            CompletableResultCode r = real.export(logs);
            synchronized (sent) {
                sent.add(new Sent<>(List.copyOf(logs), r));
            }
            return r;
        }

        @Override
        public CompletableResultCode flush() {
            return real.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess(); // the test shuts the shared exporter down itself
        }
    }

    private static final class RecordingSpans implements SpanExporter {
        private final SpanExporter real;
        private final List<Sent<SpanData>> sent;

        RecordingSpans(SpanExporter real, List<Sent<SpanData>> sent) {
            this.real = real;
            this.sent = sent;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            CompletableResultCode r = real.export(spans);
            synchronized (sent) {
                sent.add(new Sent<>(List.copyOf(spans), r));
            }
            return r;
        }

        @Override
        public CompletableResultCode flush() {
            return real.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    private static final class RecordingMetrics implements MetricExporter {
        private final MetricExporter real;
        private final List<Sent<MetricData>> sent;

        RecordingMetrics(MetricExporter real, List<Sent<MetricData>> sent) {
            this.real = real;
            this.sent = sent;
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType type) {
            return real.getAggregationTemporality(type);
        }

        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            CompletableResultCode r = real.export(metrics);
            synchronized (sent) {
                sent.add(new Sent<>(List.copyOf(metrics), r));
            }
            return r;
        }

        @Override
        public CompletableResultCode flush() {
            return real.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
