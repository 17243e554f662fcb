package dev.holdfast.intake.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.OpenFiles;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The HTTP/1.1 side door of the intake server: {@code GET /metrics} (Prometheus text), {@code GET
 * /healthz} (the process is alive), {@code GET /readyz} (it should receive traffic), and when given a status
 * document, {@code GET /} (the live status page) and {@code GET /api/status} (its JSON). Anything else
 * is 404, other methods on those paths 405.
 *
 * <p>Lifecycle is explicit: nothing runs until {@link #start()}, and {@link #close()} releases the port
 * and threads. The threads are daemons: how long the process lives is the intake server's decision,
 * not this side door's, and a forgotten close must not keep a JVM alive.
 */
public final class HttpEndpoints implements AutoCloseable {

    /** Requests here carry no body worth having; anything bigger is refused with 413 by the aggregator. */
    private static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final HttpListener listener;

    /** With the default connection limits. */
    public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, Supplier<Readiness> readiness) {
        this(host, port, registry, readiness, HttpAccess.OPEN, null);
    }

    /** @param access who may read /metrics and /readyz from other addresses than loopback */
    public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, Supplier<Readiness> readiness,
                         HttpAccess access) {
        this(host, port, registry, readiness, access, null);
    }

    /** With the default connection limits. */
    public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, Supplier<Readiness> readiness,
                         HttpAccess access, SslContext tls) {
        this(host, port, registry, readiness, access, tls, defaultGate(),
                IntakeConfig.Connections.DEFAULTS.requestTimeout());
    }

    /**
     * @param access         who may read /metrics and /readyz from other addresses than loopback
     * @param tls            HTTPS with this context (its reloading managers pick up new certificates); null = plain
     * @param gate           admits each connection (shared limits, the file-descriptor reserve)
     * @param requestTimeout a request must arrive whole within this, from the connection's start or the last response
     */
    public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, Supplier<Readiness> readiness,
                         HttpAccess access, SslContext tls, ConnectionGate gate, Duration requestTimeout) {
        this(host, port, registry, readiness, access, tls, gate, requestTimeout, null);
    }

    /**
     * @param status what {@code /api/status} answers, and the page at {@code /} shows; null: no status page (404)
     */
    public HttpEndpoints(String host, int port, PrometheusMeterRegistry registry, Supplier<Readiness> readiness,
                         HttpAccess access, SslContext tls, ConnectionGate gate, Duration requestTimeout,
                         StatusDocument status) {
        HttpRequestHandler handler = new HttpRequestHandler(Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(readiness, "readiness"), Objects.requireNonNull(access, "access"), status);
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        this.listener = new HttpListener("HTTP", host, port, tls, gate, "holdfast-http", 1, pipeline -> pipeline
                .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                .addLast(new RequestDeadline(requestTimeout))
                .addLast(handler));
    }

    private static ConnectionGate defaultGate() {
        IntakeConfig.Connections d = IntakeConfig.Connections.DEFAULTS;
        return new ConnectionGate("http", new ConnectionGate.Limits(d.max(), d.maxPerAddress(), d.fdReserve() / 2),
                OpenFiles.ofThisProcess(), ConnectionGate.Listener.NONE);
    }

    /** Binds and starts serving, as {@link HttpListener#start()}: the bound port. */
    public int start() {
        return listener.start();
    }

    /** The bound port; only meaningful after {@link #start()}. */
    public int port() {
        return listener.port();
    }

    /** Stops accepting, lets in-flight responses finish, and frees the port; safe to call repeatedly. */
    @Override
    public void close() {
        listener.close();
    }
}
