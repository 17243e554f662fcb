package dev.holdfast.intake.otlp;

import dev.holdfast.intake.auth.Authenticator;
import dev.holdfast.intake.http.HttpListener;
import dev.holdfast.intake.http.RequestDeadline;
import dev.holdfast.intake.net.ConnectionGate;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.SslContext;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OTLP/HTTP (HTTP/1.1, with or without TLS): {@code POST /v1/logs}, {@code /v1/traces} and {@code /v1/metrics}, in
 * binary protobuf ({@code application/x-protobuf}) or JSON ({@code application/json}), optionally gzip-compressed,
 * through the same durability path as OTLP/gRPC ({@link OtlpIntake}): the answer is sent once the request is durable
 * (or refused), from the WAL's outcome, never by a thread that waits for it.
 *
 * <p>Each connection's requests are handled by an {@link OtlpHttpHandler}: refused on their headers where they can be
 * (path, method, credentials, content type and encoding, a declared length over the limit) without their body ever
 * being held; otherwise their body is read up to {@code limits.maxBatchBytes} as sent, gzip undone up to the same
 * limit. The bodies being received on all connections together hold no more than
 * {@code limits.connections.partialMessageBytesTotal} (429 beyond). Connections pass the port's
 * {@link ConnectionGate}, and a request must arrive whole within the request timeout ({@link RequestDeadline}), as on
 * the HTTP side door.
 *
 * <p>Lifecycle as {@code HttpEndpoints}: nothing runs until {@link #start()}; {@link #close()} stops accepting, lets
 * the requests already handed to the WAL be answered (up to 5 s), then frees the port and threads (daemons).
 */
public final class OtlpHttpServer implements AutoCloseable {
    private final OtlpHttpHandler.Shared shared;
    private final HttpListener listener;

    /**
     * @param authenticator the intake's (the gRPC listener's: same token file, same rules); null without an auth
     *                      section, when every sender is anonymous
     * @param tls           HTTPS with this context; null = plaintext
     * @param gate          admits each connection
     * @param requestTimeout a request must arrive whole within this, from the connection's start or the last response
     * @param receivingBytes what the bodies being received may hold together, over all connections (a request that
     *                       would take more is answered 429)
     */
    public OtlpHttpServer(String host, int port, OtlpIntake intake, Authenticator authenticator, SslContext tls,
                          ConnectionGate gate, Duration requestTimeout, long receivingBytes, MeterRegistry registry) {
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        // the interceptor's counter, so that one meter counts every refused credential, whichever port saw it
        Counter unauthenticated = authenticator == null ? null : Counter.builder("auth.refused")
                .tag("reason", "unauthenticated")
                .description("gRPC calls refused for missing or unknown credentials").register(registry);
        this.shared = new OtlpHttpHandler.Shared(Objects.requireNonNull(intake, "intake"), authenticator,
                unauthenticated, receivingBytes);
        Gauge.builder("otlp.http.receiving.bytes", shared.receiving, AtomicLong::get).baseUnit("bytes")
                .description("Bytes held for OTLP/HTTP request bodies still being received, over all connections")
                .register(registry);
        // parsing and inflating run on the workers (the WAL is only waited for by callbacks): one per core
        this.listener = new HttpListener("OTLP/HTTP", host, port, tls, gate, "holdfast-otlp-http",
                Runtime.getRuntime().availableProcessors(), pipeline -> pipeline
                .addLast(new RequestDeadline(requestTimeout))
                .addLast(new OtlpHttpHandler(shared)));
    }

    /**
     * Binds and starts serving; returns the bound port (the one the OS picked when constructed with 0).
     *
     * @throws UncheckedIOException  if the address cannot be bound
     * @throws IllegalStateException if already started or closed
     */
    public int start() {
        return listener.start();
    }

    /** The bound port; only meaningful after {@link #start()}. */
    public int port() {
        return listener.port();
    }

    /**
     * Stops accepting connections and requests (a request arriving now is answered 503), waits up to 5 s for the
     * requests the WAL still holds to be answered, then closes every connection and frees the port; safe to call
     * repeatedly.
     */
    @Override
    public synchronized void close() {
        if (shared.closing) {
            return;
        }
        shared.closing = true;
        listener.stopAccepting();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (shared.pending.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        listener.close();
    }
}
