package dev.holdfast.intake.net;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Decides whether one more connection may open on a port, and counts the ones open: in total, per remote address,
 * and against the process's file descriptors. It is the single owner of those counts; {@link GatedServerChannel}
 * asks it at accept time and tells it when a connection closes.
 *
 * <p>Why at accept time: a connection refused there has cost one accept and one close, no buffers, no TLS or HTTP/2
 * handshake, no stream. Refusing by closing is what a client's retry with backoff already handles.
 */
public final class ConnectionGate {
    /** Why a connection was refused; the metric's {@code reason} tag. */
    public enum Refusal {
        TOTAL("total"), PER_ADDRESS("per_address"), FD_RESERVE("fd_reserve"),
        /** Closed later, not at accept: see {@link PartialMessages}. */
        PARTIAL_BYTES("partial_bytes"), PARTIAL_BYTES_TOTAL("partial_bytes_total");

        private final String tag;

        Refusal(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /**
     * @param max           open connections in total
     * @param maxPerAddress open connections from one remote address
     * @param fdReserve     file descriptors that must stay free after this connection
     */
    public record Limits(int max, int maxPerAddress, int fdReserve) {
    }

    /** Told of every refusal (metrics, a rate-limited log line). */
    public interface Listener {
        Listener NONE = (refusal, remote) -> { };

        void refused(Refusal refusal, InetAddress remote);
    }

    private final String port;
    private final Limits limits;
    private final OpenFiles files;
    private final Listener listener;
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private int open;

    /** Who is told of this port's refusals; connections closed later for a limit are told to it too. */
    public Listener listener() {
        return listener;
    }

    /** @param port what the log and metrics call this listener ({@code grpc}, {@code http}) */
    public ConnectionGate(String port, Limits limits, OpenFiles files, Listener listener) {
        this.port = port;
        this.limits = limits;
        this.files = files;
        this.listener = listener;
    }

    /** Counts the connection in and returns null, or returns why it must be closed (and counts nothing). */
    public Refusal admit(InetAddress remote) {
        Refusal refusal = decide(remote);
        if (refusal != null) {
            listener.refused(refusal, remote);
        }
        return refusal;
    }

    private synchronized Refusal decide(InetAddress remote) {
        if (open >= limits.max()) {
            return Refusal.TOTAL;
        }
        int fromThere = perAddress.getOrDefault(remote, 0);
        if (fromThere >= limits.maxPerAddress()) {
            return Refusal.PER_ADDRESS;
        }
        // the accepted socket already holds its descriptor: what is free now is what the rest of the process has
        if (files.free() < limits.fdReserve()) {
            return Refusal.FD_RESERVE;
        }
        open++;
        perAddress.put(remote, fromThere + 1);
        return null;
    }

    /** A connection {@link #admit} let in has closed. */
    public synchronized void release(InetAddress remote) {
        open--;
        perAddress.computeIfPresent(remote, (a, n) -> n > 1 ? n - 1 : null);
    }

    public synchronized int open() {
        return open;
    }

    public String port() {
        return port;
    }
}
