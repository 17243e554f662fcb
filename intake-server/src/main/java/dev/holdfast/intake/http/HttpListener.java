package dev.holdfast.intake.http;

import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.GatedServerChannel;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
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
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One HTTP/1.1 port of the intake (the side door, OTLP/HTTP): its accept and worker threads (daemons: how long the
 * process lives is the intake's decision), its connection gate, TLS, the codec and keep-alive; the owner adds the rest
 * of each connection's pipeline. Nothing runs until {@link #start()}; {@link #close()} frees the port and threads.
 */
public final class HttpListener implements AutoCloseable {
    private final String protocol;
    private final String host;
    private final int requestedPort;
    private final SslContext tls;
    private final ConnectionGate gate;
    private final String threadPrefix;
    private final int workerThreads;
    private final Consumer<ChannelPipeline> handlers;

    private EventLoopGroup boss;
    private EventLoopGroup worker;
    private Channel serverChannel;
    private int boundPort = -1;
    private boolean closed;

    /**
     * @param protocol     what it serves, in messages ("HTTP", "OTLP/HTTP")
     * @param tls          HTTPS with this context (its reloading managers pick up new certificates); null = plain
     * @param gate         admits each connection
     * @param threadPrefix names the threads: PREFIX-accept and PREFIX
     * @param handlers     adds the owner's handlers after the codec and keep-alive, once per connection
     */
    public HttpListener(String protocol, String host, int port, SslContext tls, ConnectionGate gate, String threadPrefix,
                        int workerThreads, Consumer<ChannelPipeline> handlers) {
        this.protocol = protocol;
        this.host = Objects.requireNonNull(host, "host");
        this.requestedPort = port;
        this.tls = tls;
        this.gate = Objects.requireNonNull(gate, "gate");
        this.threadPrefix = threadPrefix;
        this.workerThreads = workerThreads;
        this.handlers = handlers;
    }

    /**
     * Binds and starts serving; returns the bound port (the one the OS picked when constructed with 0).
     *
     * @throws UncheckedIOException  if the address cannot be bound (in use, not local, ...)
     * @throws IllegalStateException if already started or closed
     */
    public synchronized int start() {
        if (closed || serverChannel != null) {
            throw new IllegalStateException(protocol + " listener " + (closed ? "is closed" : "already started"));
        }
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadPrefix + "-accept", true),
                NioIoHandler.newFactory());
        worker = new MultiThreadIoEventLoopGroup(workerThreads, new DefaultThreadFactory(threadPrefix, true),
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
                        ch.pipeline().addLast(new HttpServerCodec()).addLast(new HttpServerKeepAliveHandler());
                        handlers.accept(ch.pipeline());
                    }
                });
        try {
            serverChannel = bootstrap.bind(host, requestedPort).syncUninterruptibly().channel();
        } catch (Exception e) { // Netty rethrows the bind's BindException without declaring it
            shutdownGroups();
            IOException io = e instanceof IOException i ? i
                    : (IOException) new BindException(e.toString()).initCause(e);
            throw new UncheckedIOException("cannot listen for " + protocol + " on " + host + ":" + requestedPort
                    + ": " + e.getMessage(), io);
        }
        boundPort = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return boundPort;
    }

    /** The bound port; only meaningful after {@link #start()}. */
    public synchronized int port() {
        if (serverChannel == null) {
            throw new IllegalStateException(protocol + " listener not started");
        }
        return boundPort;
    }

    /** Accepts no more connections; those open keep being served until {@link #close()}. */
    public synchronized void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    /** Stops accepting, lets responses being written finish, and frees the port; safe to call repeatedly. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopAccepting();
        shutdownGroups();
    }

    private void shutdownGroups() {
        if (boss != null) {
            boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (worker != null) {
            // a short quiet period: only the last answers are still being written
            worker.shutdownGracefully(50, 5_000, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
