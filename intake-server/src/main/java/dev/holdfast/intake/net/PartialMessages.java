package dev.holdfast.intake.net;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The budget for bytes of gRPC messages still being received, per connection and in total. gRPC opens a stream's
 * flow-control window as it copies a message's bytes into the message being assembled, so without this a client
 * can make the intake hold up to the message limit (9 MiB by default) on each of its streams, on every connection,
 * and never send the last byte. Admission ({@code limits.maxInflightBytes}) only sees whole messages.
 *
 * <p>gRPC reports a message's bytes as they are read ({@link ServerStreamTracer#inboundWireSize}) and when it is
 * whole ({@link ServerStreamTracer#inboundMessageRead}); this tracer counts the difference. A connection over its
 * budget is closed; when all connections together are over theirs, the one holding the most is closed. Both are
 * counted ({@code holdfast_connections_refused_total{reason=partial_bytes|partial_bytes_total}}). A well-behaved
 * client holds at most one message in progress per stream and never comes near.
 */
public final class PartialMessages extends ServerStreamTracer.Factory {
    private final long perConnection;
    private final long total;
    private final ConnectionGate.Listener listener;
    private final Map<SocketAddress, Connection> connections = new ConcurrentHashMap<>();
    private final AtomicLong held = new AtomicLong();
    /**
     * The connection closed for the total whose streams have not yet given their bytes back: until they have, the
     * total still counts them, and closing another connection for it would close one too many.
     */
    private final AtomicReference<Connection> closingForTotal = new AtomicReference<>();

    /** @param listener told of every connection closed here (the same as the gate's: metrics, a rate-limited log) */
    public PartialMessages(long perConnection, long total, ConnectionGate.Listener listener) {
        this.perConnection = perConnection;
        this.total = total;
        this.listener = listener;
    }

    /** A connection was accepted; it is forgotten when it closes. */
    public void opened(Channel channel) {
        if (!(channel.remoteAddress() instanceof InetSocketAddress remote)) {
            return;
        }
        Connection c = new Connection(channel, remote);
        connections.put(remote, c);
        channel.closeFuture().addListener(f -> {
            connections.remove(remote, c);
            // its streams give their bytes back as they close, which clears this; should one never do so, the
            // total budget must not stay switched off
            channel.eventLoop().schedule(() -> closingForTotal.compareAndSet(c, null), 1, TimeUnit.SECONDS);
        });
    }

    /** Bytes of messages in progress on every connection now. */
    public long heldBytes() {
        return held.get();
    }

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new StreamBytes();
    }

    private final class Connection {
        final Channel channel;
        final InetSocketAddress remote;
        final AtomicLong bytes = new AtomicLong();
        final AtomicBoolean closing = new AtomicBoolean();

        Connection(Channel channel, InetSocketAddress remote) {
            this.channel = channel;
            this.remote = remote;
        }

        void close(ConnectionGate.Refusal reason) {
            if (closing.compareAndSet(false, true)) {
                listener.refused(reason, remote.getAddress());
                // its streams never finish, so no graceful close: they end with the socket, and their tracers give
                // the bytes back
                PrefaceDeadline.closeNow(channel);
            }
        }
    }

    /** One stream's message in progress; gRPC calls a stream's tracer from one thread at a time. */
    private final class StreamBytes extends ServerStreamTracer {
        private volatile Connection connection;
        private long partial;

        @Override
        public void serverCallStarted(ServerCallInfo<?, ?> info) {
            // before the call's first message is requested, hence before any of its bytes are read
            SocketAddress remote = info.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            connection = remote == null ? null : connections.get(remote);
        }

        @Override
        public void inboundWireSize(long bytes) {
            partial += bytes;
            long all = held.addAndGet(bytes);
            Connection c = connection;
            if (c != null && c.bytes.addAndGet(bytes) > perConnection) {
                c.close(ConnectionGate.Refusal.PARTIAL_BYTES);
            } else if (all > total && closingForTotal.get() == null) {
                Connection largest = largest();
                if (largest != null && closingForTotal.compareAndSet(null, largest)) {
                    largest.close(ConnectionGate.Refusal.PARTIAL_BYTES_TOTAL);
                }
            }
        }

        @Override
        public void inboundMessageRead(int seqNo, long optionalWireSize, long optionalUncompressedSize) {
            release(); // whole: from here on the batch counts against the in-flight limit
        }

        @Override
        public void streamClosed(Status status) {
            release();
        }

        private void release() {
            if (partial == 0) {
                return;
            }
            held.addAndGet(-partial);
            Connection c = connection;
            if (c != null && c.bytes.addAndGet(-partial) == 0 && c.closing.get()) {
                closingForTotal.compareAndSet(c, null);
            }
            partial = 0;
        }
    }

    private Connection largest() {
        Connection largest = null;
        for (Connection c : connections.values()) {
            if (!c.closing.get() && (largest == null || c.bytes.get() > largest.bytes.get())) {
                largest = c;
            }
        }
        return largest;
    }
}
