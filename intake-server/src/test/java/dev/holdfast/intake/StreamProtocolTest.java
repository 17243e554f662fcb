package dev.holdfast.intake;

import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.Priority;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The stream's rules, over real gRPC: Hello first and once, one kind per message; every breach answered. */
class StreamProtocolTest {
    @RegisterExtension
    final IntakeFixture intake = IntakeFixture.startedForEachTest();

    private static EventBatch batch(String agent, long seq) {
        return TestClient.batch(agent, seq, 2, Priority.NORMAL, 10);
    }

    @Test
    void aBatchBeforeHelloIsRefusedAndNeverAcceptedAsAnyAgent() throws Exception {
        TestClient.Stream s = intake.client().stream();
        s.send(batch("early", 3));
        BatchAck a = s.next().getAck();
        assertEquals(BatchAck.Status.INVALID, a.getStatus(), a.toString());
        assertEquals(3, a.getBatchSeq());
        assertTrue(a.getMessage().contains("batch before Hello"), a.getMessage());
        assertTrue(intake.walContents().isEmpty());
        // the stream still takes its Hello, and then the same batch
        assertEquals(0, s.hello("early").getWelcome().getPersistedThrough());
        s.send(batch("early", 3));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(List.of("early#3"), List.copyOf(intake.walContents().keySet()));
    }

    @Test
    void aSecondHelloEndsTheStreamWithFailedPrecondition() throws Exception {
        TestClient.Stream s = intake.client().stream();
        s.hello("one");
        s.sendRawMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("two")).build().toByteArray());
        Status status = s.error();
        assertEquals(Status.Code.FAILED_PRECONDITION, status.getCode());
        assertTrue(status.getDescription().contains("second Hello"), status.getDescription());
        assertTrue(status.getDescription().contains("\"one\""), status.getDescription());
    }

    @Test
    void aMessageCarryingHelloAndBatchIsRefusedNotLastFieldWins() throws Exception {
        // two AgentMessages concatenated are one message on the wire with both fields set
        byte[] hello = AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("both")).build().toByteArray();
        byte[] batch = AgentMessage.newBuilder().setBatch(batch("both", 1)).build().toByteArray();
        for (byte[][] order : new byte[][][]{{hello, batch}, {batch, hello}}) {
            TestClient.Stream s = intake.client().stream();
            s.sendRawMessage(concat(order[0], order[1]));
            Status status = s.error();
            assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
            assertTrue(status.getDescription().contains("both hello and batch"), status.getDescription());
        }
        // after a Hello, too
        TestClient.Stream s = intake.client().stream();
        s.hello("both");
        s.sendRawMessage(concat(hello, batch));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.error().getCode());
        // and two batches in one message
        TestClient.Stream twice = intake.client().stream();
        twice.hello("both");
        twice.sendRawMessage(concat(batch, AgentMessage.newBuilder().setBatch(batch("both", 2)).build().toByteArray()));
        Status status = twice.error();
        assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
        assertTrue(status.getDescription().contains("2 batch fields"), status.getDescription());
        assertTrue(intake.walContents().isEmpty());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
