package dev.holdfast.intake;

import com.google.protobuf.ByteString;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** OTLP/gRPC on the intake's gRPC port, looked at from the wire and from the WAL. */
class OtlpGrpcIntakeTest {
    private static final ByteArrayMarshaller RAW = new ByteArrayMarshaller();
    private static final MethodDescriptor<byte[], byte[]> RAW_LOGS = LogsServiceGrpc.getExportMethod()
            .toBuilder(RAW, RAW).build();

    @TempDir
    java.nio.file.Path tmp;
    @RegisterExtension
    final IntakeFixture intake = IntakeFixture.startedForEachTest();
    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", intake.server().grpcPort()).usePlaintext()
                .maxInboundMessageSize(16 << 20).build();
    }

    @AfterEach
    void disconnect() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static ExportLogsServiceRequest logs(int severity, String... bodies) {
        ScopeLogs.Builder scope = ScopeLogs.newBuilder();
        for (String b : bodies) {
            scope.addLogRecords(LogRecord.newBuilder().setSeverityNumberValue(severity)
                    .setBody(AnyValue.newBuilder().setStringValue(b)));
        }
        return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(scope))
                .build();
    }

    private static Span span(String name, int traceIdBytes) {
        byte[] trace = new byte[traceIdBytes];
        java.util.Arrays.fill(trace, (byte) 7);
        return Span.newBuilder().setName(name).setTraceId(ByteString.copyFrom(trace))
                .setSpanId(ByteString.copyFrom(new byte[]{1, 2, 3, 4, 5, 6, 7, 8})).build();
    }

    private List<WalRecord> wal() throws Exception {
        List<WalRecord> out = new ArrayList<>();
        try (WalInspector w = WalInspector.open(intake.walDir())) {
            w.forEach(null, null, e -> out.add(((WalReader.Valid) e).record()));
        }
        return out;
    }

    @Test
    void eachExportIsOneWalRecordOfItsRequestBytesWithItsSignalsPriorityAndNoneIsADuplicate() throws Exception {
        var logStub = LogsServiceGrpc.newBlockingStub(channel);
        ExportLogsServiceRequest info = logs(9, "started", "listening");
        assertEquals(ExportLogsServiceResponse.getDefaultInstance(), logStub.export(info));
        assertEquals(ExportLogsServiceResponse.getDefaultInstance(), logStub.export(info), "a retry is written again");
        ExportLogsServiceRequest error = logs(17, "disk failed");
        logStub.export(error);
        ExportTraceServiceRequest traces = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans
                .newBuilder().addScopeSpans(ScopeSpans.newBuilder().addSpans(span("a", 16)))).build();
        TraceServiceGrpc.newBlockingStub(channel).export(traces);
        ExportMetricsServiceRequest metrics = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
                ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder()
                        .setName("queue.depth").setGauge(Gauge.newBuilder()
                                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(3))
                                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(4)))))).build();
        MetricsServiceGrpc.newBlockingStub(channel).export(metrics);

        List<WalRecord> wal = wal();
        assertEquals(5, wal.size());
        Object[][] expected = {
                {RecordKind.OTLP_LOGS, BatchPriority.NORMAL, 2, info.toByteArray()},
                {RecordKind.OTLP_LOGS, BatchPriority.NORMAL, 2, info.toByteArray()},
                {RecordKind.OTLP_LOGS, BatchPriority.CRITICAL, 1, error.toByteArray()},
                {RecordKind.OTLP_TRACES, BatchPriority.NORMAL, 1, traces.toByteArray()},
                {RecordKind.OTLP_METRICS, BatchPriority.BULK, 2, metrics.toByteArray()}};
        for (int i = 0; i < expected.length; i++) {
            WalRecord r = wal.get(i);
            assertEquals(expected[i][0], r.header().kind(), "record " + i);
            assertEquals(expected[i][1], r.header().priority(), "record " + i);
            assertEquals(expected[i][2], r.header().eventCount(), "record " + i);
            assertArrayEquals((byte[]) expected[i][3], r.payload(), "record " + i + ": the bytes as sent");
            assertEquals("otlp", r.header().agentId(), "an anonymous sender");
        }
        String metricsText = intake.metrics();
        assertTrue(metricsText.contains("holdfast_otlp_requests_total{outcome=\"success\",signal=\"logs\"} 3.0"),
                metricsText);
    }

    @Test
    void unusableSpansAreLeftOutAndReportedAsPartialSuccess() throws Exception {
        Span bad = span("bad", 3);
        ExportTraceServiceRequest request = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans
                .newBuilder().addScopeSpans(ScopeSpans.newBuilder().addSpans(span("good-1", 16)).addSpans(bad)
                        .addSpans(span("good-2", 16)))).build();
        ExportTraceServiceResponse response = TraceServiceGrpc.newBlockingStub(channel).export(request);
        assertEquals(1, response.getPartialSuccess().getRejectedSpans());
        assertTrue(response.getPartialSuccess().getErrorMessage()
                .contains("resourceSpans[0].scopeSpans[0].spans[1].traceId is 3 bytes, not 16"),
                response.getPartialSuccess().getErrorMessage());
        List<WalRecord> wal = wal();
        assertEquals(1, wal.size());
        List<Span> stored = ExportTraceServiceRequest.parseFrom(wal.get(0).payload()).getResourceSpans(0)
                .getScopeSpans(0).getSpansList();
        assertEquals(List.of("good-1", "good-2"), stored.stream().map(Span::getName).toList());

        // every span unusable: answered (partial success, nothing kept), nothing written
        ExportTraceServiceResponse none = TraceServiceGrpc.newBlockingStub(channel).export(ExportTraceServiceRequest
                .newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ScopeSpans.newBuilder()
                        .addSpans(bad).addSpans(span("zero", 0)))).build());
        assertEquals(2, none.getPartialSuccess().getRejectedSpans());
        assertEquals(1, wal().size());
    }

    @Test
    void bytesThatAreNoRequestAreInvalidArgumentAndNothingIsWritten() throws Exception {
        byte[] garbage = {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2};
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, RAW_LOGS, CallOptions.DEFAULT, garbage));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("not a valid OTLP logs request"), e.getStatus().toString());
        assertEquals(0, wal().size());
    }

    @Test
    void aGzipBombIsReadNoFurtherThanTheLimitAndRefusedAsInvalid() throws Exception {
        // 64 MiB of zeros travel as ~64 KiB of gzip; the intake's limit is limits.maxBatchBytes (4 MiB)
        byte[] bomb = new byte[64 << 20];
        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                channel, RAW_LOGS, CallOptions.DEFAULT.withCompression("gzip").withDeadlineAfter(30, TimeUnit.SECONDS),
                bomb));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("over the limit of 4194304 bytes"), e.getStatus().toString());
        assertEquals(0, wal().size());
        // a well-formed gzip export is taken
        ExportLogsServiceRequest ok = logs(9, "compressed");
        LogsServiceGrpc.newBlockingStub(channel).withCompression("gzip").export(ok);
        assertArrayEquals(ok.toByteArray(), wal().get(0).payload());
        System.out.printf("gzip bomb refused in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void holdfastV1StillTakesNoCompressedMessages() {
        MethodDescriptor<byte[], byte[]> send = IntakeServiceGrpc.getSendMethod().toBuilder(RAW, RAW).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                channel, send, CallOptions.DEFAULT.withCompression("gzip"), new byte[1 << 20]));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("takes no compressed messages"), e.getStatus().toString());
    }

    @Test
    void underDiskPressureMetricsAreShedResourceExhaustedWithRetryInfoWhileErrorLogsAreKept() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig.Wal w = d.wal();
        // a 2 MiB WAL budget: BULK is shed above half of it, NORMAL above three quarters, CRITICAL kept to the end
        IntakeConfig.Wal small = new IntakeConfig.Wal(2L << 20, 0, 0.5, 0.75, java.time.Duration.ofMillis(1300),
                w.groupCommitMaxDelay(), w.groupCommitMaxBytes(), w.rollCycle(), 1L << 20);
        IntakeConfig cfg = new IntakeConfig("pressure", tmp.resolve("pressure"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                new IntakeConfig.Limits(200 * 1024, 10_000, 256, 64L << 20, 0), small, d.forwarder())
                .withoutForwarder();
        try (IntakeServer server = new IntakeServer(cfg, IntakeServer.newRegistry()).start()) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                Metric.Builder metric = Metric.newBuilder().setName("m");
                Gauge.Builder gauge = Gauge.newBuilder();
                for (int i = 0; i < 8000; i++) gauge.addDataPoints(NumberDataPoint.newBuilder().setAsInt(i));
                ExportMetricsServiceRequest big = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
                        ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder()
                                .addMetrics(metric.setGauge(gauge)))).build(); // ~50 KiB, BULK by default
                StatusRuntimeException shed = null;
                for (int i = 0; i < 100 && shed == null; i++) {
                    try {
                        MetricsServiceGrpc.newBlockingStub(ch).export(big);
                    } catch (StatusRuntimeException e) {
                        shed = e;
                    }
                }
                assertNotNull(shed, "never shed");
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, shed.getStatus().getCode(), shed.getStatus().toString());
                assertTrue(shed.getStatus().getDescription().contains("BULK"), shed.getStatus().toString());
                com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(shed);
                assertNotNull(details, "no google.rpc.Status details");
                com.google.rpc.RetryInfo retry = details.getDetails(0).unpack(com.google.rpc.RetryInfo.class);
                long delayMs = retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000;
                assertTrue(delayMs >= 1300 && delayMs <= 1950, "wal.retryAfter 1.3 s plus up to half: " + delayMs);
                // an error log is CRITICAL: still taken where metrics are shed
                LogsServiceGrpc.newBlockingStub(ch).export(logs(17, "the disk is filling"));
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
