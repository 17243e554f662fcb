package dev.holdfast.shipper;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipper's /metrics as a stock Prometheus and a JVM dashboard read it: a real HTTP server on loopback. */
class ShipperMetricsTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aFreshShippersScrapeHasStandardJvmNamesHelpForEveryFamilyAndFailuresAtZero() throws Exception {
        try (ShipperMetrics metrics = new ShipperMetrics()) {
            int port = metrics.serve("127.0.0.1", 0,
                    () -> new ShipperMetrics.Health(true, true, List.of(), Map.of()));
            HttpResponse<String> text = get(port, null);
            assertEquals("text/plain; version=0.0.4; charset=utf-8", text.headers().firstValue("Content-Type")
                    .orElseThrow());
            String scrape = text.body();
            for (String name : List.of("jvm_memory_used_bytes", "jvm_gc_", "process_cpu_usage",
                    "process_files_open_files", "process_uptime_seconds")) {
                assertTrue(scrape.contains("\n" + name), name + " missing:\n" + scrape);
            }
            assertFalse(scrape.contains("holdfast_jvm_"), scrape);
            assertTrue(scrape.contains("holdfast_shipper_stream_failures_total{code=\"UNAVAILABLE\"} 0.0"), scrape);
            assertTrue(scrape.contains("holdfast_shipper_stream_failures_total{code=\"UNAUTHENTICATED\"} 0.0"), scrape);
            assertTrue(scrape.contains("holdfast_shipper_acknowledged_events_total 0.0"), scrape);
            Set<String> families = new TreeSet<>();
            Set<String> helped = new TreeSet<>();
            for (String line : scrape.split("\n")) {
                if (line.startsWith("# TYPE ")) families.add(line.split(" ")[2]);
                if (line.startsWith("# HELP ") && line.split(" ", 4).length == 4) helped.add(line.split(" ")[2]);
            }
            families.removeIf(f -> !f.startsWith("holdfast_"));
            families.removeAll(helped);
            assertEquals(Set.of(), families, "Holdfast families without help text");

            metrics.streamFailed(Status.UNAVAILABLE);
            assertTrue(metrics.scrape().contains("holdfast_shipper_stream_failures_total{code=\"UNAVAILABLE\"} 1.0"));

            HttpResponse<String> open = get(port, "application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
            assertTrue(open.headers().firstValue("Content-Type").orElseThrow()
                    .startsWith("application/openmetrics-text; version=1.0.0"), open.headers().toString());
            assertTrue(open.body().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        }
    }

    private HttpResponse<String> get(int port, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"));
        if (accept != null) {
            b.header("Accept", accept);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r;
    }
}
