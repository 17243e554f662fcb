package dev.holdfast.intake.http;

import dev.holdfast.metrics.Metrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HttpEndpointsTest {

    private static final PrometheusMeterRegistry REGISTRY = Metrics.newRegistry();

    private final AtomicReference<Supplier<Readiness>> readiness = new AtomicReference<>(() -> Readiness.READY);
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private HttpEndpoints endpoints;

    @BeforeEach
    void start() {
        endpoints = new HttpEndpoints("127.0.0.1", 0, REGISTRY, () -> readiness.get().get());
        endpoints.start();
    }

    @AfterEach
    void stop() {
        endpoints.close();
    }

    @Test
    void metricsServesThePrometheusScrape() throws Exception {
        REGISTRY.counter("http.test.hits").increment();
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        assertTrue(r.body().contains("\nholdfast_http_test_hits_total 1.0\n"), r.body());
        assertTrue(r.body().contains("\njvm_memory_used_bytes"), r.body());
    }

    @Test
    void healthzSaysOk() throws Exception {
        HttpResponse<String> r = get("/healthz");
        assertEquals(200, r.statusCode());
        assertEquals("ok\n", r.body());
    }

    @Test
    void readyzFollowsTheSupplierOnEveryRequest() throws Exception {
        HttpResponse<String> ready = get("/readyz");
        assertEquals(200, ready.statusCode());
        assertEquals("{\"status\":\"ready\"}", ready.body());
        assertEquals("application/json", ready.headers().firstValue("content-type").orElseThrow());

        readiness.set(() -> Readiness.notReady("WAL above normal watermark", "disk \"data\" nearly full"));
        HttpResponse<String> notReady = get("/readyz");
        assertEquals(503, notReady.statusCode());
        assertEquals("{\"status\":\"not ready\",\"reasons\":[\"WAL above normal watermark\","
                + "\"disk \\\"data\\\" nearly full\"]}", notReady.body());

        readiness.set(() -> Readiness.READY);
        assertEquals(200, get("/readyz").statusCode());
    }

    @Test
    void aFailingReadinessCheckIsNotReadyRatherThanAnError() throws Exception {
        readiness.set(() -> {
            throw new IllegalStateException("boom");
        });
        HttpResponse<String> r = get("/readyz");
        assertEquals(503, r.statusCode());
        assertTrue(r.body().contains("readiness check failed"), r.body());
    }

    @Test
    void unknownPathsAre404AndOtherMethods405() throws Exception {
        assertEquals(404, get("/nope").statusCode());
        assertEquals(404, get("/metrics/extra").statusCode());
        assertEquals(200, get("/healthz?verbose=1").statusCode());

        HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")));
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("allow").orElseThrow());
        assertEquals(405, send(HttpRequest.newBuilder(uri("/readyz")).DELETE()).statusCode());
        assertEquals(404, send(HttpRequest.newBuilder(uri("/nope")).DELETE()).statusCode());
    }

    @Test
    void oversizedRequestsAreRefused() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(64 * 1024))));
        assertEquals(413, r.statusCode());
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnectionAndConnectionCloseHangsUp() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), endpoints.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));

            out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            skipResponse(in);

            out.write("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("HTTP/1.1 404 Not Found", in.readLine());
            skipResponse(in);
            assertEquals(-1, in.read(), "server closes after a Connection: close request");
        }
    }

    @Test
    void closeReleasesThePortAndIsIdempotent() throws Exception {
        int port = endpoints.port();
        assertEquals(200, get("/healthz").statusCode()); // leaves a pooled keep-alive connection open
        endpoints.close();
        endpoints.close();
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress("127.0.0.1", port));
        }
        assertThrows(IllegalStateException.class, endpoints::start);
    }

    @Test
    void startFailsClearlyWhenThePortIsTaken() {
        try (HttpEndpoints second = new HttpEndpoints("127.0.0.1", endpoints.port(), REGISTRY, () -> Readiness.READY)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, second::start);
            assertTrue(e.getMessage().contains("127.0.0.1:" + endpoints.port()), e.getMessage());
        }
        assertEquals(200, getUnchecked("/healthz"), "the first server is unaffected");
    }

    @Test
    void portIsOnlyKnownAfterStart() {
        HttpEndpoints notStarted = new HttpEndpoints("127.0.0.1", 0, REGISTRY, () -> Readiness.READY);
        assertThrows(IllegalStateException.class, notStarted::port);
        notStarted.close();
    }

    private int getUnchecked(String path) {
        try {
            return get(path).statusCode();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void skipResponse(BufferedReader in) throws IOException {
        int length = 0;
        for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        assertEquals(length, in.skip(length));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + endpoints.port() + path);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
