package dev.holdfast.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The latency a session reports for an ack runs from the send to the ack's arrival from the network. The session
 * thread may take the ack from its queue much later, busy with the ack before it; that wait is the agent's own, and
 * the load generator's ack-latency figures must not charge it to the intake.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IntakeSessionAckLatencyTest {
    private static final long HELD_NANOS = TimeUnit.MILLISECONDS.toNanos(400);

    @TempDir
    Path tmp;

    @Test
    void anAckIsTimedWhenItArrivesNotWhenTheBusySessionThreadTakesIt() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("latency-node", tmp.resolve("data"), Durability.WRITTEN,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), d.limits(),
                d.wal(), d.forwarder(), IntakeConfig.Tls.OFF).withoutForwarder();
        TwoBatches source = new TwoBatches();
        try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
             Endpoints endpoints = Endpoints.standard(
                     List.of(new Endpoints.Target("127.0.0.1", intake.grpcPort())), TimeUnit.MINUTES.toNanos(1))) {
            SessionListener listener = new SessionListener() {
                @Override
                public void acked(int events, long payloadBytes, long latencyNanos, boolean duplicate) {
                    source.lastAckedLatency = latencyNanos; // the source's acknowledged() follows, for the same batch
                }
            };
            IntakeSession session = new IntakeSession("agent-latency", endpoints, source, listener,
                    new Backoff(10, 100, RandomGenerator.of("L64X128MixRandom")), IntakeSession.Options.of(2),
                    System::nanoTime);
            Thread thread = new Thread(session, "session");
            thread.start();
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(thread.isAlive(), "the session ends once both batches are acknowledged");
            assertEquals(0, session.unacknowledgedAtEnd());
        }
        assertEquals(2, source.latencyBySeq.size(), "both batches acknowledged: " + source.latencyBySeq);
        // the premise: the session thread got to the second ack only after holding the first one
        assertTrue(source.handledAfterSendBySeq.get(2L) >= HELD_NANOS,
                "second ack handled " + source.handledAfterSendBySeq.get(2L) / 1_000_000 + " ms after the send");
        // both acks arrived within a loopback round trip and a page-cache write, well inside the hold
        for (long seq : List.of(1L, 2L)) {
            long latency = source.latencyBySeq.get(seq);
            assertTrue(latency >= 0 && latency < HELD_NANOS / 2, "batch " + seq + " timed at " + latency / 1_000_000
                    + " ms");
        }
    }

    /**
     * Two batches sent together; acknowledging the first holds the session thread while the second ack arrives. Records,
     * per batch, the latency the session reported and how long after its send the session thread got to its ack.
     */
    private static final class TwoBatches implements BatchSource {
        final Map<Long, Long> latencyBySeq = new ConcurrentHashMap<>();
        final Map<Long, Long> handledAfterSendBySeq = new ConcurrentHashMap<>();
        private final Map<Long, Long> sentAtBySeq = new ConcurrentHashMap<>();
        volatile long lastAckedLatency;
        private long nextSeq = 1;
        private long through;

        @Override
        public OutboundBatch next(long nowNanos) {
            if (nextSeq > 2) {
                return null;
            }
            long seq = nextSeq++;
            sentAtBySeq.put(seq, System.nanoTime());
            byte[] wire = AgentMessage.newBuilder().setBatch(EventBatch.newBuilder().setAgentId("agent-latency")
                    .setBatchSeq(seq).addEvents(Event.newBuilder().setTimeUnixNano(seq))).build().toByteArray();
            return new OutboundBatch(seq, wire, 1, 8);
        }

        @Override
        public boolean exhausted(long nowNanos) {
            return nextSeq > 2;
        }

        @Override
        public void resumeAbove(long highestPersisted) {
        }

        @Override
        public void acknowledged(OutboundBatch batch) {
            latencyBySeq.put(batch.seq(), lastAckedLatency);
            handledAfterSendBySeq.put(batch.seq(), System.nanoTime() - sentAtBySeq.get(batch.seq()));
            through = Math.max(through, batch.seq());
            if (batch.seq() == 1) {
                try {
                    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(HELD_NANOS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void rejected(OutboundBatch batch, String why) {
            throw new AssertionError("rejected: " + why);
        }

        @Override
        public long acknowledgedThrough() {
            return through;
        }
    }
}
