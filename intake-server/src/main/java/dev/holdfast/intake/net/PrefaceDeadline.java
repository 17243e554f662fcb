package dev.holdfast.intake.net;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Closes a gRPC connection that has not completed its HTTP/2 handshake (the client preface and SETTINGS) within the
 * deadline. gRPC's own idle timeout starts only once the transport is ready, so without this a socket that connects
 * and says nothing (or trickles the preface) would hold its place, and its file descriptor, for good.
 *
 * <p>{@link GatedServerChannel} hands over every admitted connection; gRPC tells this filter when a transport is
 * ready, matched by the remote address (address and port identify one connection).
 */
public final class PrefaceDeadline extends ServerTransportFilter {
    private final long nanos;
    private final Map<SocketAddress, Channel> waiting = new ConcurrentHashMap<>();

    public PrefaceDeadline(Duration deadline) {
        this.nanos = deadline.toNanos();
    }

    /** Starts the clock for one accepted connection; {@code timers} runs the deadline (the accepting loop). */
    void watch(Channel child, EventLoop timers) {
        SocketAddress remote = child.remoteAddress();
        if (remote == null) {
            return;
        }
        waiting.put(remote, child);
        child.closeFuture().addListener(f -> waiting.remove(remote, child));
        timers.schedule(() -> {
            if (waiting.remove(remote, child)) {
                closeNow(child); // a connection that never finished its handshake has nothing to drain
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Closes a gRPC connection at the socket, on its own event loop. Not {@code channel.close()}: gRPC's HTTP/2
     * handler turns that into a graceful GOAWAY that waits for the streams in progress (up to its shutdown timeout),
     * and the connections closed here have nothing worth waiting for.
     */
    static void closeNow(Channel channel) {
        channel.eventLoop().execute(() -> channel.unsafe().close(channel.unsafe().voidPromise()));
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        SocketAddress remote = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (remote != null) {
            waiting.remove(remote);
        }
        return attributes;
    }

    /** Connections still waiting for their handshake (tests, metrics). */
    public int waiting() {
        return waiting.size();
    }
}
