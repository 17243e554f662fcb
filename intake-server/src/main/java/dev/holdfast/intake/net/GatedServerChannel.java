package dev.holdfast.intake.net;

import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A NIO server channel that asks a {@link ConnectionGate} about every connection it accepts, before Netty builds a
 * pipeline for it: a refused one is closed right there; an admitted one is released when it closes. Used for the
 * gRPC port (through NettyServerBuilder's channel factory) and the HTTP port alike.
 */
public final class GatedServerChannel extends NioServerSocketChannel {
    private final ConnectionGate gate;
    private final PrefaceDeadline preface;
    private final PartialMessages partial;

    public GatedServerChannel(ConnectionGate gate) {
        this(gate, null, null);
    }

    /**
     * @param preface closes gRPC connections that do not finish their handshake in time; null for HTTP
     * @param partial closes gRPC connections that hold too many bytes of messages in progress; null for HTTP
     */
    public GatedServerChannel(ConnectionGate gate, PrefaceDeadline preface, PartialMessages partial) {
        this.gate = gate;
        this.preface = preface;
        this.partial = partial;
    }

    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
        int before = buf.size();
        int accepted = super.doReadMessages(buf);
        for (int i = buf.size() - 1; i >= before; i--) {
            NioSocketChannel child = (NioSocketChannel) buf.get(i);
            InetSocketAddress remote = child.remoteAddress();
            InetAddress address = remote == null ? null : remote.getAddress();
            if (address == null || gate.admit(address) != null) {
                buf.remove(i);
                accepted--;
                child.unsafe().closeForcibly();
            } else {
                child.closeFuture().addListener(f -> gate.release(address));
                if (preface != null) {
                    preface.watch(child, eventLoop());
                }
                if (partial != null) {
                    partial.opened(child);
                }
            }
        }
        return accepted;
    }
}
