package dev.holdfast.intake.otlp;

import dev.holdfast.testkit.FreePorts;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.auth.Tokens;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.otlp.OtlpJson;
import dev.holdfast.otlp.OtlpSignal;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.tls.ReloadingTls;
import dev.holdfast.tls.TlsFiles;
import dev.holdfast.tls.TlsListener;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * OTLP/HTTP against a real intake on loopback (WAL, fsync durability, no forwarder), with the JDK's HTTP client and,
 * where the client would hide what is tested (pipelining, a chunked body), a plain socket. What was accepted is
 * checked in the WAL, not only in the answer.
 */
class OtlpHttpServerTest {
    private static final String PROTOBUF = "application/x-protobuf";
    private static final String JSON = "application/json";
    private static final int LIMIT = 4 << 20; // limits.maxBatchBytes by default
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path tmp;
    private IntakeServer server;
    private io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry;
    private HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void stop() throws IOException {
        if (server != null) server.close();
    }

    // ------------------------------------------------------------------------------------------------------ setup

    private IntakeServer start() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        return start(IntakeConfig.Auth.NONE, IntakeConfig.Tls.OFF, d.limits(), d.wal());
    }

    /** An intake with OTLP/HTTP on a free port (0 would turn it off), found again should another process take it. */
    private IntakeServer start(IntakeConfig.Auth auth, IntakeConfig.Tls tls, IntakeConfig.Limits limits,
                               IntakeConfig.Wal wal) throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        for (int attempt = 1; ; attempt++) {
            IntakeConfig cfg = new IntakeConfig("otlp-node", tmp.resolve("data"), Durability.FSYNC,
                    new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), limits,
                    wal, d.forwarder(), tls, auth, d.otlp().withHttpPort(FreePorts.next())).withoutForwarder();
            registry = IntakeServer.newRegistry();
            IntakeServer s = new IntakeServer(cfg, registry);
            try {
                server = s.start();
                return server;
            } catch (UncheckedIOException e) {
                s.close();
                if (attempt == 3) throw e;
            }
        }
    }


    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.otlpHttpPort() + path);
    }

    private HttpResponse<byte[]> post(String path, String contentType, byte[] body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .timeout(Duration.ofSeconds(30));
        if (contentType != null) b.header("Content-Type", contentType);
        if (headers.length > 0) b.headers(headers);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Every record in the WAL now. */
    private List<WalRecord> wal() {
        List<WalRecord> out = new ArrayList<>();
        try (WalReader r = server.wal().newReader()) {
            for (WalReader.Entry e = r.next(); e != null; e = r.next()) {
                out.add(((WalReader.Valid) e).record());
            }
        }
        return out;
    }

    private WalRecord onlyRecord() {
        List<WalRecord> records = wal();
        assertEquals(1, records.size(), records.toString());
        return records.get(0);
    }

    private static com.google.rpc.Status status(HttpResponse<byte[]> r) throws Exception {
        assertEquals(PROTOBUF, r.headers().firstValue("Content-Type").orElse(""));
        return com.google.rpc.Status.parseFrom(r.body());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    // ----------------------------------------------------------------------------------------------------- bodies

    private static Resource resource(String service) {
        return Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
                .setValue(AnyValue.newBuilder().setStringValue(service))).build();
    }

    static ExportLogsServiceRequest logs(int n) {
        ScopeLogs.Builder scope = ScopeLogs.newBuilder();
        for (int i = 0; i < n; i++) {
            scope.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i)
                    .setSeverityNumberValue(9).setBody(AnyValue.newBuilder().setStringValue("line " + i)));
        }
        return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
                .setResource(resource("checkout")).addScopeLogs(scope)).build();
    }

    private static Span span(String traceHex, String spanHex, String name) {
        return Span.newBuilder().setTraceId(ByteString.copyFrom(HEX.parseHex(traceHex)))
                .setSpanId(ByteString.copyFrom(HEX.parseHex(spanHex))).setName(name)
                .setStartTimeUnixNano(1_700_000_000_000_000_000L).setEndTimeUnixNano(1_700_000_000_100_000_000L)
                .build();
    }

    private static ExportTraceServiceRequest traces(Span... spans) {
        return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
                .setResource(resource("checkout")).addScopeSpans(ScopeSpans.newBuilder().addAllSpans(List.of(spans))))
                .build();
    }

    private static ExportMetricsServiceRequest metrics(String name, int points) {
        Gauge.Builder gauge = Gauge.newBuilder();
        for (int i = 0; i < points; i++) {
            gauge.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i)
                    .setAsDouble(i * 0.5));
        }
        return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
                .setResource(resource("checkout")).addScopeMetrics(ScopeMetrics.newBuilder()
                        .addMetrics(Metric.newBuilder().setName(name).setGauge(gauge)))).build();
    }

    static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------------------------------------------- success

    @Test
    void protobufLogsTracesAndMetricsAreWrittenAsSentAndAnsweredWithAnEmptyResponse() throws Exception {
        start();
        byte[] logs = logs(3).toByteArray();
        byte[] traces = traces(span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "GET /cart"))
                .toByteArray();
        byte[] metrics = metrics("queue.depth", 2).toByteArray();

        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, logs);
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(PROTOBUF, r.headers().firstValue("Content-Type").orElse(""));
        assertEquals(ExportLogsServiceResponse.getDefaultInstance(), ExportLogsServiceResponse.parseFrom(r.body()));
        WalRecord record = onlyRecord();
        assertEquals(RecordKind.OTLP_LOGS, record.header().kind());
        assertArrayEquals(logs, record.payload());
        assertEquals(OtlpGrpcServices.ANONYMOUS_SENDER, record.header().agentId());
        assertEquals(3, record.header().eventCount());

        r = post("/v1/traces", PROTOBUF, traces);
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(ExportTraceServiceResponse.getDefaultInstance(), ExportTraceServiceResponse.parseFrom(r.body()));
        r = post("/v1/metrics", PROTOBUF + "; charset=binary", metrics); // parameters are allowed
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(ExportMetricsServiceResponse.getDefaultInstance(),
                ExportMetricsServiceResponse.parseFrom(r.body()));

        List<WalRecord> records = wal();
        assertEquals(3, records.size());
        assertEquals(RecordKind.OTLP_TRACES, records.get(1).header().kind());
        assertArrayEquals(traces, records.get(1).payload());
        assertEquals(RecordKind.OTLP_METRICS, records.get(2).header().kind());
        assertArrayEquals(metrics, records.get(2).payload());
    }

    @Test
    void aJsonBodyIsParsedWithHexIdsAndAnsweredInJson() throws Exception {
        start();
        String json = """
                {"resourceSpans":[{
                  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
                  "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
                   "name":"GET /cart","startTimeUnixNano":"1700000000000000000",
                   "endTimeUnixNano":"1700000000100000000"}]}]}]}
                """;
        HttpResponse<byte[]> r = post("/v1/traces", JSON, json.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(JSON, r.headers().firstValue("Content-Type").orElse(""));
        assertEquals("{}", text(r));
        WalRecord record = onlyRecord();
        assertEquals(RecordKind.OTLP_TRACES, record.header().kind());
        assertEquals(traces(span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "GET /cart")),
                ExportTraceServiceRequest.parseFrom(record.payload()));
    }

    @Test
    void aGzipBodyIsInflatedAndTheInflatedBytesWritten() throws Exception {
        start();
        byte[] logs = logs(500).toByteArray();
        byte[] compressed = gzip(logs);
        assertTrue(compressed.length < logs.length / 2);
        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, compressed, "Content-Encoding", "gzip");
        assertEquals(200, r.statusCode(), text(r));
        assertArrayEquals(logs, onlyRecord().payload());

        // and JSON, gzipped
        byte[] json = OtlpJson.print(metrics("cpu", 3));
        r = post("/v1/metrics", JSON, gzip(json), "Content-Encoding", "GZIP");
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(metrics("cpu", 3), ExportMetricsServiceRequest.parseFrom(wal().get(1).payload()));
    }

    @Test
    void aPartialSuccessLeavesTheBadSpanOutAndSaysSo() throws Exception {
        start();
        Span good1 = span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "a");
        Span bad = span("abcdef", "eee19b7ec3c1b175", "b"); // a 3-byte trace id
        Span good2 = span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b176", "c");
        HttpResponse<byte[]> r = post("/v1/traces", PROTOBUF, traces(good1, bad, good2).toByteArray());
        assertEquals(200, r.statusCode(), text(r));
        ExportTraceServiceResponse response = ExportTraceServiceResponse.parseFrom(r.body());
        assertEquals(1, response.getPartialSuccess().getRejectedSpans());
        assertTrue(response.getPartialSuccess().getErrorMessage().contains("spans[1].traceId is 3 bytes, not 16"),
                response.getPartialSuccess().getErrorMessage());
        WalRecord record = onlyRecord();
        assertEquals(traces(good1, good2), ExportTraceServiceRequest.parseFrom(record.payload()));
        assertEquals(2, record.header().eventCount());

        // in JSON too, in the JSON mapping (an id of the wrong length cannot be written in OTLP/JSON: a metric
        // without a name can)
        r = post("/v1/metrics", JSON, OtlpJson.print(metrics("", 2)));
        assertEquals(200, r.statusCode(), text(r));
        assertTrue(text(r).startsWith("{\"partialSuccess\":{\"rejectedDataPoints\":\"2\",\"errorMessage\":"), text(r));
        assertEquals(1, wal().size(), "a request with nothing usable writes nothing");
    }

    @Test
    void expectContinueIsAnsweredAndTheBodyThenRead() throws Exception {
        start();
        byte[] logs = logs(2).toByteArray();
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(uri("/v1/logs")).expectContinue(true)
                .header("Content-Type", PROTOBUF).POST(HttpRequest.BodyPublishers.ofByteArray(logs)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), text(r));
        assertArrayEquals(logs, onlyRecord().payload());
    }

    // ---------------------------------------------------------------------------------------------------- refused

    @Test
    void aGzipBombIsStoppedAtTheLimitQuicklyAndNothingIsWritten() throws Exception {
        start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) gz.write(zeros); // 64 MiB
        }
        byte[] bomb = out.toByteArray();
        assertTrue(bomb.length < 100 * 1024, "" + bomb.length);
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, bomb, "Content-Encoding", "gzip");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(400, r.statusCode(), text(r));
        com.google.rpc.Status status = status(r);
        assertEquals(Code.INVALID_ARGUMENT.getNumber(), status.getCode());
        assertEquals("OTLP logs request inflates past the limit of " + LIMIT
                + " bytes (limits.maxBatchBytes); inflated no further", status.getMessage());
        assertTrue(millis < 3000, millis + " ms");
        assertEquals(List.of(), wal());
    }

    @Test
    void damagedGzipIsRefused() throws Exception {
        start();
        byte[] gz = gzip(logs(50).toByteArray());
        byte[] truncated = java.util.Arrays.copyOf(gz, gz.length - 20);
        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, truncated, "Content-Encoding", "gzip");
        assertEquals(400, r.statusCode(), text(r));
        assertTrue(status(r).getMessage().startsWith("OTLP logs request body is not valid gzip: "),
                status(r).getMessage());
        r = post("/v1/logs", PROTOBUF, logs(1).toByteArray(), "Content-Encoding", "gzip"); // not compressed at all
        assertEquals(400, r.statusCode(), text(r));
        assertTrue(status(r).getMessage().contains("not gzip"), status(r).getMessage());
        assertEquals(List.of(), wal());
    }

    @Test
    void anUncompressedBodyOverTheLimitIsRefusedOnItsLengthAndTheConnectionStaysUsable() throws Exception {
        start();
        HttpResponse<byte[]> r = post("/v1/metrics", PROTOBUF, new byte[LIMIT + 1]);
        assertEquals(400, r.statusCode(), text(r));
        assertEquals("OTLP metrics request body is " + (LIMIT + 1) + " bytes, over the limit of " + LIMIT
                + " bytes (limits.maxBatchBytes)", status(r).getMessage());
        assertEquals(List.of(), wal());
        r = post("/v1/metrics", PROTOBUF, metrics("m", 1).toByteArray());
        assertEquals(200, r.statusCode(), text(r));
        assertEquals(1, wal().size());
    }

    @Test
    void aChunkedBodyOverTheLimitIsRefusedWhenItCrossesItAndTheConnectionClosed() throws Exception {
        start();
        try (Socket s = new Socket("127.0.0.1", server.otlpHttpPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < 4; i++) writeChunk(out, chunk, chunk.length);
            writeChunk(out, chunk, 1); // one byte past the limit; no last chunk follows
            out.flush();
            InputStream in = s.getInputStream();
            RawResponse r = RawResponse.read(in);
            assertEquals(400, r.status, r.toString());
            assertEquals("close", r.headers.get("connection"));
            assertEquals("OTLP logs request body is over the limit of " + LIMIT
                    + " bytes (limits.maxBatchBytes); read no further",
                    com.google.rpc.Status.parseFrom(r.body).getMessage());
            assertEquals(-1, in.read(), "the connection is closed");
        }
        assertEquals(List.of(), wal());
    }

    private static void writeChunk(OutputStream out, byte[] data, int n) throws IOException {
        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data, 0, n);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void bodiesBeingReceivedShareABudgetAndARequestBeyondItIsShed429() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        int limit = 1 << 20;
        // partialMessageBytesTotal 3 MiB: three bodies of up to 1 MiB in progress, not four
        start(IntakeConfig.Auth.NONE, IntakeConfig.Tls.OFF, new IntakeConfig.Limits(limit, 10_000, 256, 64L << 20, 0,
                new IntakeConfig.Connections(4096, 512, 128, Duration.ofMinutes(5), Duration.ofSeconds(30),
                        3L << 20, 3L << 20)), d.wal());
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket("127.0.0.1", server.otlpHttpPort());
                slow.add(s);
                s.getOutputStream().write(("POST /v1/logs HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/x-protobuf\r\nContent-Length: " + limit + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().write(new byte[600_000]); // past half: its array has grown to the whole 1 MiB
                s.getOutputStream().flush();
            }
            awaitReceiving(3L << 20);
            HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, logs(1).toByteArray());
            assertEquals(429, r.statusCode(), text(r));
            assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElse("0")) >= 1);
            assertEquals("intake busy: bodies being received over all OTLP/HTTP connections hold their budget of "
                    + (3 << 20) + " bytes (limits.connections.partialMessageBytesTotal)", status(r).getMessage());
        } finally {
            for (Socket s : slow) s.close();
        }
        awaitReceiving(0); // given back when their connections closed
        assertEquals(200, post("/v1/logs", PROTOBUF, logs(1).toByteArray()).statusCode());
        assertEquals(1, wal().size());
    }

    private void awaitReceiving(long bytes) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        double now;
        while ((now = registry.get("holdfast.otlp.http.receiving.bytes").gauge().value()) != bytes) {
            if (System.nanoTime() > until) fail("receiving " + now + " bytes, not " + bytes);
            Thread.sleep(10);
        }
    }

    @Test
    void anIdleConnectionIsClosedAtTheRequestDeadlineAlsoAfterARequestAnsweredOnItsHeaders() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig.Connections c = d.limits().connections();
        IntakeConfig.Limits limits = d.limits();
        start(IntakeConfig.Auth.NONE, IntakeConfig.Tls.OFF, new IntakeConfig.Limits(limits.maxBatchBytes(),
                limits.maxEventsPerBatch(), limits.maxAgentIdBytes(), limits.maxInflightBytes(), 0,
                new IntakeConfig.Connections(c.max(), c.maxPerAddress(), c.fdReserve(), c.idleTimeout(),
                        Duration.ofMillis(500), c.partialMessageBytes(), c.partialMessageBytesTotal())), d.wal());
        try (Socket s = new Socket("127.0.0.1", server.otlpHttpPort())) {
            s.setSoTimeout(10_000);
            // refused on its headers (404): answered before its body is read, the body then dropped
            s.getOutputStream().write(("POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            assertEquals(404, RawResponse.read(in).status);
            s.getOutputStream().write("12345".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            long t0 = System.nanoTime();
            assertEquals(-1, in.read(), "closed once idle past the deadline");
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 5_000, millis + " ms");
        }
    }

    @Test
    void aMalformedRequestIsAnswered400AndItsConnectionClosed() throws Exception {
        start();
        try (Socket s = new Socket("127.0.0.1", server.otlpHttpPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("hello\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            RawResponse r = RawResponse.read(s.getInputStream());
            assertEquals(400, r.status, r.toString());
            assertTrue(new String(r.body, StandardCharsets.UTF_8).startsWith("malformed HTTP request: "), r.toString());
            assertEquals(-1, s.getInputStream().read(), "the connection is closed");
        }
    }

    @Test
    void garbageIsRefusedWithAStatusInTheRequestsFormat() throws Exception {
        start();
        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, new byte[]{(byte) 0xff, (byte) 0xff, 0x07, 0x01});
        assertEquals(400, r.statusCode(), text(r));
        com.google.rpc.Status status = status(r);
        assertEquals(Code.INVALID_ARGUMENT.getNumber(), status.getCode());
        assertTrue(status.getMessage().startsWith("not a valid OTLP logs request: "), status.getMessage());

        r = post("/v1/traces", JSON, "{\"resourceSpans\": [".getBytes(StandardCharsets.UTF_8));
        assertEquals(400, r.statusCode(), text(r));
        assertEquals(JSON, r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(text(r).startsWith("{\"code\":3,\"message\":\"not a valid OTLP/JSON traces request: not JSON"),
                text(r));
        assertEquals(List.of(), wal());
    }

    @Test
    void unknownPathsOtherMethodsAndOtherContentTypesAndEncodingsAreRefused() throws Exception {
        start();
        byte[] logs = logs(1).toByteArray();
        HttpResponse<byte[]> r = post("/v1/log", PROTOBUF, logs);
        assertEquals(404, r.statusCode(), text(r));
        assertEquals(Code.NOT_FOUND.getNumber(), status(r).getCode());
        assertEquals(404, post("/v1/logs/", PROTOBUF, logs).statusCode());

        r = client.send(HttpRequest.newBuilder(uri("/v1/logs")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(405, r.statusCode(), text(r));
        assertEquals("POST", r.headers().firstValue("Allow").orElse(""));
        r = client.send(HttpRequest.newBuilder(uri("/v1/metrics")).PUT(HttpRequest.BodyPublishers.ofByteArray(logs))
                .header("Content-Type", PROTOBUF).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(405, r.statusCode(), text(r));

        r = post("/v1/logs", "text/plain", logs);
        assertEquals(415, r.statusCode(), text(r));
        assertEquals("Content-Type must be application/x-protobuf or application/json, not \"text/plain\"\n", text(r));
        assertEquals(415, post("/v1/logs", null, logs).statusCode());
        r = post("/v1/logs", PROTOBUF, logs, "Content-Encoding", "br");
        assertEquals(415, r.statusCode(), text(r));
        assertTrue(status(r).getMessage().startsWith("Content-Encoding \"br\" is not supported"), text(r));
        // refused before the body was wanted: a client waiting for 100 Continue gets the refusal instead, and the
        // connection is closed (the body it holds back will never come). A raw socket: the JDK 17 client waits
        // forever for a 100 that does not come (JDK-8286171).
        try (Socket s = new Socket("127.0.0.1", server.otlpHttpPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    + "Expect: 100-continue\r\nContent-Length: 10\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            RawResponse refused = RawResponse.read(s.getInputStream());
            assertEquals(415, refused.status, refused.toString());
            assertEquals(-1, s.getInputStream().read(), "the connection is closed");
        }

        assertEquals(List.of(), wal());
        assertEquals(200, post("/v1/logs", PROTOBUF, logs, "Content-Encoding", "identity").statusCode());
    }

    @Test
    void answersArePipelinedInRequestOrder() throws Exception {
        start();
        byte[] logs = logs(2).toByteArray();
        try (Socket s = new Socket("127.0.0.1", server.otlpHttpPort())) {
            s.setSoTimeout(10_000);
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write(("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                    + "Content-Length: " + logs.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            both.write(logs);
            both.write(("POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(both.toByteArray()); // in one write: the second arrives before the first's answer
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            assertEquals(200, RawResponse.read(in).status, "the WAL's answer to the first comes first");
            assertEquals(404, RawResponse.read(in).status);
        }
        assertArrayEquals(logs, onlyRecord().payload());
    }

    @Test
    void underDiskPressureMetricsAreShedWith429AndRetryAfterInSeconds() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig.Wal w = d.wal();
        IntakeConfig.Wal small = new IntakeConfig.Wal(2L << 20, 0, 0.5, 0.75, Duration.ofMillis(1300),
                w.groupCommitMaxDelay(), w.groupCommitMaxBytes(), w.rollCycle(), 1L << 20);
        start(IntakeConfig.Auth.NONE, IntakeConfig.Tls.OFF,
                new IntakeConfig.Limits(200 * 1024, 10_000, 256, 64L << 20, 0), small);
        byte[] big = metrics("m", 8000).toByteArray(); // about 100 KiB, BULK by default
        HttpResponse<byte[]> r = null;
        for (int i = 0; i < 100; i++) {
            r = post("/v1/metrics", PROTOBUF, big);
            if (r.statusCode() != 200) break;
        }
        assertEquals(429, r.statusCode(), text(r));
        assertEquals("2", r.headers().firstValue("Retry-After").orElse(""), "1.3 s to 1.95 s, rounded up");
        com.google.rpc.Status status = status(r);
        assertEquals(Code.RESOURCE_EXHAUSTED.getNumber(), status.getCode());
        assertTrue(status.getMessage().contains("BULK"), status.getMessage());
    }

    @Test
    void retryLaterMapsTo429Or503WithRetryAfterInWholeSecondsAtLeastOne() {
        OtlpHttpHandler.Admitted a = new OtlpHttpHandler.Admitted(OtlpSignal.LOGS, OtlpHttpHandler.Format.PROTOBUF,
                false, "otlp");
        var unavailable = OtlpHttpHandler.answer(a, new OtlpResult.RetryLater(1001, "WAL error", false), null);
        assertEquals(503, unavailable.status().code());
        assertEquals("2", unavailable.headers().get("Retry-After"));
        var overloaded = OtlpHttpHandler.answer(a, new OtlpResult.RetryLater(0, "busy", true), null);
        assertEquals(429, overloaded.status().code());
        assertEquals("1", overloaded.headers().get("Retry-After"));
        assertEquals(1, OtlpHttpHandler.retryAfterSeconds(1));
        assertEquals(1, OtlpHttpHandler.retryAfterSeconds(1000));
        assertEquals(2, OtlpHttpHandler.retryAfterSeconds(1001));
        var invalid = OtlpHttpHandler.answer(a, new OtlpResult.Invalid("no"), null);
        assertEquals(400, invalid.status().code());
        assertNull(invalid.headers().get("Retry-After"));
    }

    // ------------------------------------------------------------------------------------------------------- auth

    @Test
    void aBearerTokenFromTheTokenFileIsRequiredAndNamesTheSender() throws Exception {
        Path tokens = Files.writeString(tmp.resolve("tokens"), Tokens.hash("s3cret") + " collector-1\n");
        IntakeConfig d = IntakeConfig.defaults();
        start(new IntakeConfig.Auth(IntakeConfig.Auth.Require.TOKEN, tokens, List.of()), IntakeConfig.Tls.OFF,
                d.limits(), d.wal());
        byte[] logs = logs(1).toByteArray();

        HttpResponse<byte[]> r = post("/v1/logs", PROTOBUF, logs);
        assertEquals(401, r.statusCode(), text(r));
        assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(Code.UNAUTHENTICATED.getNumber(), status(r).getCode());
        assertTrue(status(r).getMessage().contains("header 'authorization: Bearer <token>'"), status(r).getMessage());
        r = post("/v1/logs", PROTOBUF, logs, "Authorization", "Bearer wrong");
        assertEquals(403, r.statusCode(), text(r));
        assertEquals("unknown bearer token (not in auth.tokens)", status(r).getMessage());
        assertEquals(List.of(), wal());

        r = post("/v1/logs", PROTOBUF, logs, "Authorization", "Bearer s3cret");
        assertEquals(200, r.statusCode(), text(r));
        assertEquals("collector-1", onlyRecord().header().agentId());
    }

    @Test
    void aVerifiedClientCertificateOverTlsNamesTheSender() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "ca");
        TestPki.Issued cert = pki.server("intake", "localhost", "127.0.0.1");
        IntakeConfig d = IntakeConfig.defaults();
        // OPTIONAL: the handshake lets a client without a certificate in, and auth refuses it on the request
        start(new IntakeConfig.Auth(IntakeConfig.Auth.Require.CERTIFICATE, null, List.of()),
                new IntakeConfig.Tls(cert.cert(), cert.key(), pki.caCert(), IntakeConfig.Tls.ClientAuth.OPTIONAL,
                        false, false, Duration.ofSeconds(2)), d.limits(), d.wal());
        URI https = URI.create("https://localhost:" + server.otlpHttpPort() + "/v1/logs");
        byte[] logs = logs(1).toByteArray();

        TestPki.Issued agent = pki.client("agent-7");
        HttpClient withCert = tlsClient(new TlsFiles(agent.cert(), agent.key(), pki.caCert()));
        HttpResponse<byte[]> r = withCert.send(HttpRequest.newBuilder(https).header("Content-Type", PROTOBUF)
                .POST(HttpRequest.BodyPublishers.ofByteArray(logs)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), text(r));
        assertEquals("agent-7", onlyRecord().header().agentId());

        HttpClient withoutCert = tlsClient(new TlsFiles(null, null, pki.caCert()));
        r = withoutCert.send(HttpRequest.newBuilder(https).header("Content-Type", PROTOBUF)
                .POST(HttpRequest.BodyPublishers.ofByteArray(logs)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(401, r.statusCode(), text(r));
        assertTrue(status(r).getMessage().contains("a client certificate naming the agent"), status(r).getMessage());
        assertEquals(1, wal().size());
    }

    private static HttpClient tlsClient(TlsFiles files) throws Exception {
        ReloadingTls tls = ReloadingTls.load(files, Clock.systemUTC(), TlsListener.NONE);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(files.cert() == null ? null : new javax.net.ssl.KeyManager[]{tls.keyManager()},
                new javax.net.ssl.TrustManager[]{tls.trustManager()}, null);
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ctx).build();
    }

    @Test
    void offWhenItsPortIsZero() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("otlp-node", tmp.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), d.limits(),
                d.wal(), d.forwarder(), IntakeConfig.Tls.OFF, IntakeConfig.Auth.NONE, d.otlp().withHttpPort(0))
                .withoutForwarder();
        server = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
        assertEquals(-1, server.otlpHttpPort());
    }

    // ----------------------------------------------------------------------------------------------- raw sockets

    /** An HTTP/1.1 response read off a socket: status, headers (lower-case names), Content-Length body. */
    private record RawResponse(int status, Map<String, String> headers, byte[] body) {
        static RawResponse read(InputStream in) throws IOException {
            String statusLine = line(in);
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new java.util.HashMap<>();
            for (String l = line(in); !l.isEmpty(); l = line(in)) {
                int colon = l.indexOf(':');
                headers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
            }
            byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
            return new RawResponse(status, headers, body);
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) throw new IOException("connection closed after: " + b);
                if (c != '\r') b.append((char) c);
            }
            return b.toString();
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + new String(body, StandardCharsets.UTF_8);
        }
    }
}
