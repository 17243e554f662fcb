package dev.holdfast.intake.otlp;

import dev.holdfast.intake.auth.Authenticator;
import dev.holdfast.intake.http.RequestDeadline;
import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.GatedServerChannel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
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
    private final String host;
    private final int requestedPort;
    private final SslContext tls;
    private final ConnectionGate gate;
    private final Duration requestTimeout;
    private final OtlpHttpHandler.Shared shared;

    private EventLoopGroup boss;
    private EventLoopGroup worker;
    private Channel serverChannel;
    private int boundPort = -1;
    private boolean closed;

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
        this.host = Objects.requireNonNull(host, "host");
        this.requestedPort = port;
        this.tls = tls;
        this.gate = Objects.requireNonNull(gate, "gate");
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        // the interceptor's counter, so that one meter counts every refused credential, whichever port saw it
        Counter unauthenticated = authenticator == null ? null : Counter.builder("auth.refused")
                .tag("reason", "unauthenticated")
                .description("gRPC calls refused for missing or unknown credentials").register(registry);
        this.shared = new OtlpHttpHandler.Shared(Objects.requireNonNull(intake, "intake"), authenticator,
                unauthenticated, receivingBytes);
        Gauge.builder("otlp.http.receiving.bytes", shared.receiving, AtomicLong::get).baseUnit("bytes")
                .description("Bytes held for OTLP/HTTP request bodies still being received, over all connections")
                .register(registry);
    }

    /**
     * Binds and starts serving; returns the bound port (the one the OS picked when constructed with 0).
     *
     * @throws UncheckedIOException  if the address cannot be bound
     * @throws IllegalStateException if already started or closed
     */
    public synchronized int start() {
        if (closed || serverChannel != null) {
            throw new IllegalStateException(closed ? "OtlpHttpServer is closed" : "OtlpHttpServer already started");
        }
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("holdfast-otlp-http-accept", true),
                NioIoHandler.newFactory());
        // parsing and inflating run on these threads (the WAL is only waited for by callbacks): one per core
        worker = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                new DefaultThreadFactory("holdfast-otlp-http", true), NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, worker)
                .channelFactory(() -> new GatedServerChannel(gate))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpServerKeepAliveHandler())
                                .addLast(new RequestDeadline(requestTimeout))
                                .addLast(new OtlpHttpHandler(shared));
                    }
                });
        try {
            serverChannel = bootstrap.bind(host, requestedPort).syncUninterruptibly().channel();
        } catch (Exception e) { // Netty rethrows the bind's BindException without declaring it
            shutdownGroups();
            IOException io = e instanceof IOException i ? i
                    : (IOException) new BindException(e.toString()).initCause(e);
            throw new UncheckedIOException("cannot listen for OTLP/HTTP on " + host + ":" + requestedPort + ": "
                    + e.getMessage(), io);
        }
        boundPort = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return boundPort;
    }

    /** The bound port; only meaningful after {@link #start()}. */
    public synchronized int port() {
        if (serverChannel == null) {
            throw new IllegalStateException("OtlpHttpServer not started");
        }
        return boundPort;
    }

    /**
     * Stops accepting connections and requests (a request arriving now is answered 503), waits up to 5 s for the
     * requests the WAL still holds to be answered, then closes every connection and frees the port; safe to call
     * repeatedly.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        shared.closing = true;
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (shared.pending.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        shutdownGroups();
    }

    private void shutdownGroups() {
        if (boss != null) {
            boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (worker != null) {
            // the quiet period lets the last answers be written before the connections close
            worker.shutdownGracefully(50, 5_000, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
