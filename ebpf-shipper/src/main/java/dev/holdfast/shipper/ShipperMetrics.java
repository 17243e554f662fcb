package dev.holdfast.shipper;

import com.sun.net.httpserver.HttpServer;
import dev.holdfast.metrics.Metrics;
import dev.holdfast.client.Endpoints;
import dev.holdfast.client.SessionListener;
import dev.holdfast.shipper.source.EventSource;
import dev.holdfast.shipper.spool.Spool;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The shipper's meters, scraped as {@code holdfast_shipper_*} from {@code GET /metrics}. Every way an event can be
 * lost between the kernel and the intake has its own drop counter ({@code holdfast_shipper_dropped_events_total}
 * by reason), so "nothing dropped" is a fact one can read.
 *
 * <p>Lifecycle: construct, {@link #bind}, {@link #serve(String, int)} (optional), {@link #close()}.
 */
final class ShipperMetrics implements SessionListener, AutoCloseable {

    /**
     * Made at the first {@code /readyz}, not with the class: Jackson is some 370 classes (3 MiB of metaspace) that a
     * shipper nobody probes never needs, and the shipper's whole budget is 128 MiB.
     */
    private static final class ReadyzJson {
        static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();
    }

    /** With the JVM's and the process's meters under their standard names, as the intake's. */
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    final Counter drained = counter("holdfast.shipper.drained.events", "Events drained from the source");
    final Counter batched = counter("holdfast.shipper.batched.batches", "Batches closed by the batcher");
    final Counter spooled = counter("holdfast.shipper.spooled.events", "Events appended to the disk spool");
    private final Counter sent = counter("holdfast.shipper.sent.batches", "Batches sent, resends included");
    private final Counter ackedBatches = counter("holdfast.shipper.acknowledged.batches", "Batches the intake persisted");
    final Counter ackedEvents = counter("holdfast.shipper.acknowledged.events", "Events the intake persisted");
    private final Counter retryLater = counter("holdfast.shipper.retry.later", "RETRY_LATER answers (intake shedding)");
    private final Counter reconnects = counter("holdfast.shipper.reconnects", "Streams re-established after a loss");
    /** By gRPC status code: UNAUTHENTICATED and PERMISSION_DENIED (refused credentials) need an operator. */
    private final Map<Status.Code, Counter> streamFailures = new java.util.EnumMap<>(Status.Code.class);
    private final AtomicLong acknowledgedEvents = new AtomicLong();
    private HttpServer http;

    ShipperMetrics() {
        // every code at 0 from the start: a rate over a series that appears only at the first failure misses it
        for (Status.Code code : Status.Code.values()) {
            if (code != Status.Code.OK) {
                streamFailures.put(code, Counter.builder("holdfast.shipper.stream.failures")
                        .description("Streams lost or failed to open, by gRPC status code").tag("code", code.name())
                        .register(registry));
            }
        }
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }

    /** Gauges and function counters over the live parts; suppliers are cheap and thread-safe. */
    void bind(EventSource source, Spool spool, Endpoints endpoints, SpoolBatches batches) {
        for (String name : source.counters().keySet()) {
            FunctionCounter.builder("holdfast.shipper.source", source, s -> s.counters().getOrDefault(name, 0L))
                    .tag("source", source.name()).tag("counter", name)
                    .description("The source's own counters (kernel per-CPU counters for ebpf)").register(registry);
        }
        dropped("ring_full", source, s -> s.counters().getOrDefault("dropped", 0L));
        dropped("stash_full", source, s -> s.counters().getOrDefault("stash_full", 0L));
        dropped("source_queue_full", source, s -> s.counters().getOrDefault("queue_full", 0L));
        dropped("inotify_overflow", source, s -> s.counters().getOrDefault("overflow", 0L));
        for (Spool.DropReason reason : Spool.DropReason.values()) {
            dropped("spool_" + reason.label(), spool, s -> s.stats().droppedEvents(reason));
        }
        FunctionCounter.builder("holdfast.shipper.invalid.batches", batches, SpoolBatches::rejectedBatches)
                .description("Batches the intake refused as INVALID (dropped after logging)").register(registry);
        gauge("holdfast.shipper.spool.pending.bytes", "Bytes of spooled batches not yet acknowledged", spool,
                s -> s.stats().pendingBytes());
        gauge("holdfast.shipper.spool.pending.batches", "Spooled batches not yet acknowledged", spool,
                s -> s.stats().pendingBatches());
        gauge("holdfast.shipper.spool.pending.events", "Events in spooled batches not yet acknowledged", spool,
                s -> s.stats().pendingEvents());
        gauge("holdfast.shipper.spool.inflight.batches", "Batches sent and awaiting their acknowledgement", spool,
                s -> s.stats().inFlightBatches());
        gauge("holdfast.shipper.spool.disk.bytes", "Bytes the spool's files take on disk", spool,
                s -> s.stats().diskBytes());
        FunctionCounter.builder("holdfast.shipper.dns.resolutions", endpoints, Endpoints::resolutions)
                .description("DNS lookups of intake names (paced: at most one per name per refresh interval)")
                .register(registry);
        FunctionCounter.builder("holdfast.shipper.dns.failures", endpoints, Endpoints::resolutionFailures)
                .description("DNS lookups that failed; the last known good addresses stay in use").register(registry);
    }

    private <T> void dropped(String reason, T obj, ToDoubleFunction<T> f) {
        FunctionCounter.builder("holdfast.shipper.dropped.events", obj, f).tag("reason", reason)
                .description("Events lost before reaching the intake, by reason").register(registry);
    }

    private <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).description(description).register(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    String scrape() {
        return registry.scrape();
    }

    /** In the format the scraper's {@code Accept} header asks for: OpenMetrics (Prometheus' default) or text 0.0.4. */
    String scrape(String contentType) {
        return registry.scrape(contentType);
    }

    long acknowledgedEvents() {
        return acknowledgedEvents.get();
    }

    /** What {@code /healthz} and {@code /readyz} answer from (see {@code Shipper.health()}). */
    record Health(boolean live, boolean ready, java.util.List<String> reasons, Map<String, Object> details) {
    }

    /**
     * Serves {@code GET /metrics}, {@code /healthz} (200 "ok" while live, else 503) and {@code /readyz} (200 or 503,
     * a JSON body with the status, the reasons when not ready, and details) on host:port (port 0 = ephemeral);
     * returns the bound port.
     */
    int serve(String host, int port, java.util.function.Supplier<Health> health) throws IOException {
        http = HttpServer.create(new InetSocketAddress(host, port), 16);
        http.createContext("/metrics", exchange -> {
            String type = Metrics.contentType(exchange.getRequestHeaders().getFirst("Accept"));
            respond(exchange, 200, type, scrape(type));
        });
        http.createContext("/healthz", exchange -> {
            Health h = health.get();
            respond(exchange, h.live() ? 200 : 503, "text/plain; charset=utf-8",
                    h.live() ? "ok\n" : String.join("; ", h.reasons()) + "\n");
        });
        http.createContext("/readyz", exchange -> {
            Health h = health.get();
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("status", h.ready() ? "ready" : "not ready");
            if (!h.reasons().isEmpty()) {
                body.put("reasons", h.reasons());
            }
            body.put("details", h.details());
            respond(exchange, h.ready() ? 200 : 503, "application/json",
                    ReadyzJson.MAPPER.writeValueAsString(body));
        });
        http.start();
        return http.getAddress().getPort();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, String type, String text)
            throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        if (!"GET".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "GET");
            exchange.sendResponseHeaders(405, -1);
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void batchSent() {
        sent.increment();
    }

    @Override
    public void acked(int events, long payloadBytes, long latencyNanos, boolean duplicate) {
        ackedBatches.increment();
        ackedEvents.increment(events);
        acknowledgedEvents.addAndGet(events);
    }

    @Override
    public void resumedAsPersisted(int events, long payloadBytes) {
        acked(events, payloadBytes, 0, false);
    }

    @Override
    public void retryLater() {
        retryLater.increment();
    }

    @Override
    public void reconnected() {
        reconnects.increment();
    }

    @Override
    public void streamFailed(Status status) {
        Counter c = streamFailures.get(status.getCode());
        if (c != null) { // OK is no failure
            c.increment();
        }
    }

    @Override
    public void close() {
        if (http != null) {
            http.stop(0);
        }
        registry.close();
    }
}
