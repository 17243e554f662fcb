package dev.holdfast.intake.status;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent streams open on this intake right now, each with when it said Hello and its last acknowledgement: what
 * the status page lists as "connected agents". A stream registers at its Hello and leaves when it ends, so the set
 * is bounded by the streams the connection limits allow. Unary Send callers hold no stream and are not listed.
 *
 * <p>Thread-safe: acks are recorded from WAL completion threads while the page reads from an HTTP thread.
 */
public final class ConnectedAgents {
    private final Clock clock;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();

    /** @param clock stamps each Hello and acknowledgement */
    public ConnectedAgents(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A stream said Hello as {@code agentId}; close the returned session when the stream ends. */
    public Session open(String agentId) {
        Session s = new Session(agentId, clock.millis());
        sessions.add(s);
        return s;
    }

    /** The open streams, longest-connected first; at most {@code max} of them. */
    public List<Agent> list(int max) {
        List<Agent> out = new ArrayList<>();
        for (Session s : sessions) {
            out.add(s.view());
        }
        out.sort(Comparator.comparing(Agent::connectedAt).thenComparing(Agent::agentId));
        return out.size() > max ? List.copyOf(out.subList(0, max)) : out;
    }

    public int count() {
        return sessions.size();
    }

    /**
     * One agent stream as the page shows it.
     *
     * @param connectedAt when the stream said Hello, epoch milliseconds
     * @param lastAckSeq  the batch seq last answered PERSISTED or DUPLICATE, as unsigned decimal text (a seq may
     *                    exceed what a JavaScript number holds exactly); null before the first
     * @param lastAckAt   when that answer was sent, epoch milliseconds; null before the first
     * @param acked       batches answered PERSISTED or DUPLICATE on this stream
     */
    public record Agent(String agentId, long connectedAt, String lastAckSeq, Long lastAckAt, long acked) {
    }

    /** One open stream's entry; its owner reports acks and closes it. */
    public final class Session implements AutoCloseable {
        private final String agentId;
        private final long connectedAt;
        private long lastAckSeq;
        private Long lastAckAt;
        private long acked;

        private Session(String agentId, long connectedAt) {
            this.agentId = agentId;
            this.connectedAt = connectedAt;
        }

        /** The batch {@code seq} was answered PERSISTED or DUPLICATE on this stream. */
        public synchronized void acked(long seq) {
            lastAckSeq = seq;
            lastAckAt = clock.millis();
            acked++;
        }

        private synchronized Agent view() {
            return new Agent(agentId, connectedAt, lastAckAt == null ? null : Long.toUnsignedString(lastAckSeq),
                    lastAckAt, acked);
        }

        /** The stream ended; safe to call more than once. */
        @Override
        public void close() {
            sessions.remove(this);
        }
    }
}
