package dev.holdfast.intake.grpc;

import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.net.ConnectionGate;
import dev.holdfast.intake.net.GatedServerChannel;
import dev.holdfast.intake.net.PartialMessages;
import dev.holdfast.intake.net.PrefaceDeadline;
import io.grpc.DecompressorRegistry;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The intake's gRPC port: a Netty server with every bound a client meets there before its first message reaches a
 * handler (connections at accept, the handshake deadline, messages still being received, streams per connection,
 * message size, idle connections, no compression), its own threads, and a two-step shutdown: {@link #shutdown} stops
 * taking calls and lets those in progress finish, {@link #close} then releases the threads.
 */
public final class GrpcListener implements AutoCloseable {
    /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: more calls on one connection wait in the client for a free one. */
    public static final int MAX_CONCURRENT_STREAMS = 100;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Server server;

    /**
     * Starts listening.
     *
     * @param tls  the server's TLS context; null for plaintext
     * @param gate the port's connection gate (its listener is also told of connections closed for their messages)
     */
    public static GrpcListener start(IntakeConfig.Endpoint endpoint, IntakeConfig.Limits limits, SslContext tls,
                                     ConnectionGate gate, MeterRegistry registry, List<ServerServiceDefinition> services)
            throws IOException {
        return new GrpcListener(endpoint, limits, tls, gate, registry, services);
    }

    private GrpcListener(IntakeConfig.Endpoint endpoint, IntakeConfig.Limits limits, SslContext tls,
                         ConnectionGate gate, MeterRegistry registry, List<ServerServiceDefinition> services)
            throws IOException {
        IntakeConfig.Connections connections = limits.connections();
        // with TLS, the deadline covers the TLS handshake too: transportReady comes after both
        PrefaceDeadline preface = new PrefaceDeadline(connections.requestTimeout());
        PartialMessages partial = new PartialMessages(connections.partialMessageBytes(),
                connections.partialMessageBytesTotal(), gate.listener());
        Gauge.builder("partial.message.bytes", partial, PartialMessages::heldBytes).baseUnit("bytes")
                .description("Bytes of gRPC messages still being received, over all connections").register(registry);
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("intake-grpc-accept", true),
                NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("intake-grpc-io", true),
                NioIoHandler.newFactory());
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(endpoint.host(), endpoint.port()));
        if (tls != null) {
            builder.sslContext(tls); // peers' certificates reach calls as Grpc.TRANSPORT_ATTR_SSL_SESSION
        }
        services.forEach(builder::addService);
        server = builder
                .channelFactory(() -> new GatedServerChannel(gate, preface, partial))
                .addTransportFilter(preface)
                .addStreamTracerFactory(partial)
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                // Handlers run on the event loop that read the message: they decode, validate and enqueue, and
                // never block (the WAL writer owns the disk, acks go out when its futures complete). Handing every
                // message to a pool of its own cost a thread switch per batch: 7 % of the intake's CPU per event
                // at full load (docs/BENCHMARKS.md, "Handlers on the event loop").
                .directExecutor()
                // a connection with no call in progress is closed (GOAWAY) after this; agents stream all the time
                .maxConnectionIdle(connections.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                // a peer that vanished without a FIN is found by pings, not by a connection held forever
                .keepAliveTime(60, TimeUnit.SECONDS)
                .keepAliveTimeout(20, TimeUnit.SECONDS)
                .maxInboundMessageSize((int) limits.messageBytes())
                // gzip for OTLP, whose marshaller stops inflating at its limit; holdfast.v1 agents never compress,
                // and its service refuses compressed calls unread (Uncompressed)
                .decompressorRegistry(DecompressorRegistry.getDefaultInstance())
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                // gRPC's default advertises 2^31-1 concurrent streams: one connection could open any number of
                // streams, each holding buffers and an agent's state; agents need one (the shipper) or a few
                .maxConcurrentCallsPerConnection(MAX_CONCURRENT_STREAMS)
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public int port() {
        return server.getPort();
    }

    /** Stops taking calls and waits up to 5 s for those in progress (their acks) before cutting them off. */
    public void shutdown() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    /** Releases the threads; {@link #shutdown} first for a graceful stop. */
    @Override
    public void close() {
        server.shutdownNow();
        boss.shutdownGracefully(0, 5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    }
}
