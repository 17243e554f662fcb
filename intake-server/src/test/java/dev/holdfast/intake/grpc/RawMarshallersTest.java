package dev.holdfast.intake.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.testkit.ClaimedLengthStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the intake makes of an AgentMessage read from gRPC's stream is what {@link RawMarshallers#decode} makes of
 * its bytes, whatever the message and whatever length the stream claims; a message that is one batch is read in one
 * copy.
 */
class RawMarshallersTest {
    private final Random random = new Random(20261203L);

    @Test
    void everyMessageReadsAsItsBytesDecode() throws IOException {
        List<byte[]> messages = messages();
        for (byte[] message : messages) {
            String what = describe(message);
            InboundMessage expected = RawMarshallers.decode(message);
            assertSame(expected, RawMarshallers.read(new ClaimedLengthStream(message, message.length)), what);
            assertSame(expected, RawMarshallers.AGENT_MESSAGE.parse(new ClaimedLengthStream(message, message.length)),
                    what);
            assertSame(expected, RawMarshallers.read(new ByteArrayInputStream(message)), what + ", length unknown");
        }
        assertTrue(messages.stream().filter(m -> RawMarshallers.decode(m) instanceof InboundMessage.Batch).count() > 50);
    }

    @Test
    void aStreamThatSaysMoreOrLessThanItHoldsIsReadAsWhatItHolds() throws IOException {
        for (byte[] message : messages()) {
            InboundMessage expected = RawMarshallers.decode(message);
            for (int claimed : new int[]{0, 1, 2, 5, 6, 7, message.length - 1, message.length + 1, 2 * message.length}) {
                if (claimed >= 0) {
                    assertSame(expected, RawMarshallers.read(new ClaimedLengthStream(message, claimed)),
                            describe(message) + ", claiming " + claimed);
                }
            }
        }
    }

    @Test
    void aBatchIsCopiedOnceFromTheStream() throws IOException {
        byte[] batch = new byte[4 << 20];
        random.nextBytes(batch);
        byte[] message = batchMessage(batch);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        RawMarshallers.read(new ClaimedLengthStream(message, message.length)); // warm: classes loaded, not counted
        ClaimedLengthStream stream = new ClaimedLengthStream(message, message.length);
        long before = threads.getThreadAllocatedBytes(thread);
        InboundMessage read = RawMarshallers.read(stream);
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        assertEquals(2, stream.bulkReads(), "the tag and length, then the batch into its own array");
        assertArrayEquals(batch, assertInstanceOf(InboundMessage.Batch.class, read).bytes());
        // reading the message whole and then the field out of it allocated it twice: 8 MiB
        assertTrue(allocated < batch.length + (256 << 10), "allocated " + allocated + " bytes for a 4 MiB batch");
    }

    private static void assertSame(InboundMessage expected, InboundMessage actual, String what) {
        assertEquals(expected.getClass(), actual.getClass(), what);
        if (expected instanceof InboundMessage.Batch b) {
            assertArrayEquals(b.bytes(), ((InboundMessage.Batch) actual).bytes(), what);
        } else {
            assertEquals(expected, actual, what); // records: Hello, Malformed and Ambiguous by their fields
        }
    }

    /** Batches as agents send them, of sizes around every varint length, and every other shape of message. */
    private List<byte[]> messages() throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (int size : new int[]{0, 1, 2, 3, 4, 5, 127, 128, 129, 16_383, 16_384, 100_000, 2_097_151, 2_097_152}) {
            out.add(batchMessage(bytes(size)));
        }
        byte[] hello = AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("agent-1")
                .setAcknowledgedThrough(41)).build().toByteArray();
        byte[] batch = batchMessage(bytes(300));
        out.add(hello);
        out.add(concat(hello, batch));
        out.add(concat(batch, hello));
        out.add(concat(batch, batch));
        out.add(concat(batch, new byte[]{(byte) 0x18, 0x01})); // then an unknown varint field 3
        out.add(concat(new byte[]{(byte) 0x18, 0x01}, batch)); // after one
        out.add(new byte[0]);
        out.add(new byte[]{0x12}); // a batch tag and nothing else
        out.add(new byte[]{0x12, (byte) 0x80}); // a length cut off
        out.add(new byte[]{0x12, 0x05, 1, 2}); // a batch cut off
        out.add(new byte[]{0x10, 0x01}); // field 2 as a varint
        // the same batch with its length padded to six, and to ten, bytes: valid protobuf, not what agents send
        byte[] body = bytes(40);
        out.add(concat(new byte[]{0x12, (byte) (40 | 0x80), (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x00}, body));
        out.add(concat(new byte[]{0x12, (byte) (40 | 0x80), (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x00}, body));
        // a five-byte length over 32 bits, which protobuf cuts to its low 32: 40
        out.add(concat(new byte[]{0x12, (byte) (40 | 0x80), (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x10}, body));
        for (int i = 0; i < 300; i++) {
            byte[] m = i % 3 == 0 ? bytes(random.nextInt(40)) : batchMessage(bytes(random.nextInt(600)));
            if (i % 3 == 1 && m.length > 0) { // a byte of the head or the batch changed, or the message cut short
                int at = random.nextInt(Math.min(m.length, 8));
                m[at] = (byte) random.nextInt(256);
            } else if (i % 3 == 2) {
                m = Arrays.copyOf(m, random.nextInt(m.length + 1));
            }
            out.add(m);
        }
        return out;
    }

    private static byte[] batchMessage(byte[] batch) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        o.writeBytes(AgentMessage.BATCH_FIELD_NUMBER, ByteString.copyFrom(batch));
        o.flush();
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private byte[] bytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    private static String describe(byte[] message) {
        return message.length + " bytes starting " + Arrays.toString(Arrays.copyOf(message, Math.min(8, message.length)));
    }
}
