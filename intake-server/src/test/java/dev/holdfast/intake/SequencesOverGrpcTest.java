package dev.holdfast.intake;

import dev.holdfast.intake.grpc.IntakeGrpcService;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Sequence semantics end to end, over real gRPC on loopback: unsigned seqs, claims, reused seqs. */
class SequencesOverGrpcTest {
    static final long MAX_SIGNED = Long.MAX_VALUE;    // 2^63-1
    static final long TWO_TO_63 = Long.MIN_VALUE;     // 2^63
    static final long MAX_UNSIGNED = -1L;             // 2^64-1
    static final long[] BOUNDARIES = {1, MAX_SIGNED, TWO_TO_63, MAX_UNSIGNED};

    @RegisterExtension
    final IntakeFixture intake = IntakeFixture.startedForEachTest();

    private static EventBatch batch(String agent, long seq) {
        return TestClient.batch(agent, seq, 3, Priority.NORMAL, 10);
    }

    @Test
    void boundarySeqsArePersistedOnceAndResentAsDuplicates() throws Exception {
        TestClient.Stream s = intake.client().stream();
        assertEquals(0, s.hello("b").getWelcome().getPersistedThrough());
        for (long seq : BOUNDARIES) {
            s.send(batch("b", seq));
            BatchAck a = s.next().getAck();
            assertEquals(seq, a.getBatchSeq());
            assertEquals(BatchAck.Status.PERSISTED, a.getStatus(), Long.toUnsignedString(seq) + ": " + a);
        }
        for (long seq : BOUNDARIES) {
            s.send(batch("b", seq));
            BatchAck a = s.next().getAck();
            assertEquals(seq, a.getBatchSeq());
            assertEquals(BatchAck.Status.DUPLICATE, a.getStatus(), Long.toUnsignedString(seq) + ": " + a);
        }
        // the unary path too, for a seq just above 2^63
        TestClient c = intake.client();
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("b", TWO_TO_63 + 1)).getStatus());
        assertEquals(BatchAck.Status.DUPLICATE, c.blocking().send(batch("b", TWO_TO_63 + 1)).getStatus());

        Map<String, byte[]> wal = intake.walContents();
        assertEquals(5, wal.size());
        for (long seq : BOUNDARIES) {
            assertArrayEquals(batch("b", seq).toByteArray(), wal.get(IntakeFixture.key("b", seq)));
        }
        assertTrue(wal.containsKey("b#18446744073709551615"), wal.keySet().toString());

        intake.restart();
        Welcome w = intake.client().stream().hello("b").getWelcome();
        assertEquals(1, w.getPersistedThrough());
        assertEquals(List.of(MAX_SIGNED, TWO_TO_63, TWO_TO_63 + 1, MAX_UNSIGNED), w.getPersistedAboveList());
        TestClient.Stream again = intake.client().stream();
        again.hello("b");
        again.send(batch("b", MAX_UNSIGNED));
        assertEquals(BatchAck.Status.DUPLICATE, again.next().getAck().getStatus());
        again.send(batch("b", MAX_UNSIGNED - 1));
        assertEquals(BatchAck.Status.PERSISTED, again.next().getAck().getStatus());
    }

    @Test
    void aSpoofedAcknowledgedThroughNeverDiscardsRealBatches() throws Exception {
        TestClient c = intake.client();
        // a known agent: batches 1..3 are held
        TestClient.Stream first = c.stream();
        first.hello("v");
        for (long seq = 1; seq <= 3; seq++) {
            first.send(batch("v", seq));
            assertEquals(BatchAck.Status.PERSISTED, first.next().getAck().getStatus());
        }
        // Resume answers from the claim, and is read-only
        Welcome resumed = c.blocking().resume(Hello.newBuilder().setAgentId("v").setAcknowledgedThrough(MAX_UNSIGNED).build());
        assertEquals(MAX_UNSIGNED, resumed.getPersistedThrough());
        assertEquals(3, c.blocking().resume(Hello.newBuilder().setAgentId("v").build()).getPersistedThrough());

        Map<Long, BatchAck.Status> acks = new HashMap<>();
        long[] claims = {MAX_SIGNED, MAX_UNSIGNED};
        long[][] sent = {{4, 5, 1000, MAX_SIGNED}, {6, TWO_TO_63, MAX_UNSIGNED}};
        for (int i = 0; i < claims.length; i++) {
            TestClient.Stream s = c.stream();
            assertEquals(claims[i], s.hello("v", claims[i]).getWelcome().getPersistedThrough(),
                    "the answer reflects the claim");
            for (long seq : sent[i]) {
                s.send(batch("v", seq));
                BatchAck a = s.next().getAck();
                acks.put(a.getBatchSeq(), a.getStatus());
            }
            s.close();
        }
        for (long[] seqs : sent) {
            for (long seq : seqs) {
                assertEquals(BatchAck.Status.PERSISTED, acks.get(seq), "seq " + Long.toUnsignedString(seq));
            }
        }
        // each was at or below its stream's claim: written, and counted as a possible cross-node duplicate
        assertTrue(intake.metrics().contains("holdfast_intake_batches_below_claimed_ack_total 7.0"), intake.metrics());

        Map<String, byte[]> wal = intake.walContents();
        assertEquals(10, wal.size(), wal.keySet().toString());

        // the claims did not survive the restart, the batches did
        intake.restart();
        TestClient after = intake.client();
        Welcome w = after.stream().hello("v").getWelcome();
        assertEquals(6, w.getPersistedThrough());
        assertEquals(List.of(1000L, MAX_SIGNED, TWO_TO_63, MAX_UNSIGNED), w.getPersistedAboveList());
        TestClient.Stream s = after.stream();
        s.hello("v");
        s.send(batch("v", 7));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus(), "7 was claimed, never sent");
        s.send(batch("v", MAX_SIGNED));
        assertEquals(BatchAck.Status.DUPLICATE, s.next().getAck().getStatus());
        assertEquals(11, intake.walContents().size());
    }

    @Test
    void aSeqReusedWithOtherBytesIsInvalidAlsoAfterARestart() throws Exception {
        EventBatch original = TestClient.batch("x", 5, 3, Priority.NORMAL, 10);
        EventBatch other = TestClient.batch("x", 5, 4, Priority.NORMAL, 10);
        TestClient c = intake.client();
        TestClient.Stream s = c.stream();
        s.hello("x");
        s.send(original);
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        s.send(other);
        assertReused(s.next().getAck());
        s.send(original);
        assertEquals(BatchAck.Status.DUPLICATE, s.next().getAck().getStatus());

        intake.restart();
        c = intake.client();
        s = c.stream();
        s.hello("x");
        s.send(other);
        assertReused(s.next().getAck());
        s.send(original);
        assertEquals(BatchAck.Status.DUPLICATE, s.next().getAck().getStatus());
        // unary callers get INVALID_ARGUMENT with the same message
        TestClient unary = c;
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> unary.blocking().send(other));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertReused(e.getTrailers().get(IntakeGrpcService.ACK));

        Map<String, byte[]> wal = intake.walContents();
        assertEquals(1, wal.size());
        assertArrayEquals(original.toByteArray(), wal.get("x#5"), "the first bytes stay, the reuse is not written");
        assertTrue(intake.metrics().contains("holdfast_intake_rejections_total{reason=\"reused_seq\"} 2.0"));
    }

    private static void assertReused(BatchAck a) {
        assertEquals(BatchAck.Status.INVALID, a.getStatus(), a.toString());
        assertEquals(5, a.getBatchSeq());
        assertTrue(a.getMessage().contains("batch_seq 5 was reused with other content"), a.getMessage());
    }
}
