package dev.holdfast.intake.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.GatedServerChannel;
import dev.holdfast.intake.net.OpenFiles;
import io.netty.handler.codec.http.HttpObjectAggregator;
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
import java.util.function.Supplier;

/**
 * The HTTP/1.1 side door of the intake server: {@code GET /metrics} (Prometheus text), {@code GET
 * /healthz} (the process is alive) and {@code GET /readyz} (it should receive traffic). Anything else
 * is 404, other methods on those paths 405.
 *
 * <p>Lifecycle is explicit: nothing runs until {@link #start()}, and {@link #close()} releases the port
 * and threads. The threads are daemons: how long the process lives is the intake server's decision,
 * not this side door's, and a forgotten close must not keep a JVM alive.
 */
public final class HttpEndpoints implements AutoCloseable {

    /** Requests here carry no body worth having; anything bigger is refused with 413 by the aggregator. */
    private static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final String host;
    private final int requestedPort;
    private final HttpRequestHandler handler;
    private final SslContext tls;
    private final ConnectionGate gate;
    private final Duration requestTimeout;

    private EventLoopGroup boss;
    private EventLoopGroup worker;
    private Channel serverChannel;
    private int boundPort = -1;
    private boolean closed;

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
        this.tls = tls;
        this.host = Objects.requireNonNull(host, "host");
        this.requestedPort = port;
        this.handler = new HttpRequestHandler(Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(readiness, "readiness"), Objects.requireNonNull(access, "access"));
        this.gate = Objects.requireNonNull(gate, "gate");
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
    }

    private static ConnectionGate defaultGate() {
        IntakeConfig.Connections d = IntakeConfig.Connections.DEFAULTS;
        return new ConnectionGate("http", new ConnectionGate.Limits(d.max(), d.maxPerAddress(), d.fdReserve() / 2),
                OpenFiles.ofThisProcess(), ConnectionGate.Listener.NONE);
    }

    /**
     * Binds and starts serving; returns the bound port (the one the OS picked when constructed with 0).
     *
     * @throws UncheckedIOException  if the address cannot be bound (in use, not local, ...)
     * @throws IllegalStateException if already started or closed
     */
    public synchronized int start() {
        if (closed || serverChannel != null) {
            throw new IllegalStateException(closed ? "HttpEndpoints is closed" : "HttpEndpoints already started");
        }
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("holdfast-http-accept", true),
                NioIoHandler.newFactory());
        worker = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("holdfast-http", true),
                NioIoHandler.newFactory());
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
                                .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                .addLast(new RequestDeadline(requestTimeout))
                                .addLast(handler);
                    }
                });
        try {
            serverChannel = bootstrap.bind(host, requestedPort).syncUninterruptibly().channel();
        } catch (Exception e) { // Netty rethrows the bind's BindException without declaring it
            shutdownGroups();
            throw bindFailure(e);
        }
        boundPort = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return boundPort;
    }

    /** The bound port; only meaningful after {@link #start()}. */
    public synchronized int port() {
        if (serverChannel == null) {
            throw new IllegalStateException("HttpEndpoints not started");
        }
        return boundPort;
    }

    /** Stops accepting, lets in-flight responses finish, and frees the port; safe to call repeatedly. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        shutdownGroups();
    }

    private void shutdownGroups() {
        // A short quiet period: there is no queue to drain, only responses already being written.
        if (boss != null) {
            boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (worker != null) {
            worker.shutdownGracefully(50, 5_000, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }

    private UncheckedIOException bindFailure(Exception e) {
        IOException io = e instanceof IOException i ? i : (IOException) new BindException(e.toString()).initCause(e);
        return new UncheckedIOException("cannot listen for HTTP on " + host + ":" + requestedPort + ": " + e.getMessage(), io);
    }
}
