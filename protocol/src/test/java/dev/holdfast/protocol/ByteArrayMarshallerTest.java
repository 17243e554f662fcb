package dev.holdfast.protocol;

import io.grpc.KnownLength;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A received message is the bytes sent, whatever length its stream claims, and is read in one copy when it is right. */
class ByteArrayMarshallerTest {
    private final Random random = new Random(20261203L);

    @Test
    void aStreamOfKnownLengthIsReadWhole() throws IOException {
        for (int size : new int[]{0, 1, 8191, 8192, 8193, 100_000, 4 << 20}) {
            byte[] sent = bytes(size);
            Claimed stream = new Claimed(sent, sent.length);
            assertArrayEquals(sent, ByteArrayMarshaller.readMessage(stream), "size " + size);
            assertEquals(1, stream.bulkReads, "size " + size + ": one read into the message's own array");
        }
    }

    @Test
    void aStreamLongerThanItClaimsIsReadToItsEnd() throws IOException {
        for (int claimed : new int[]{0, 1, 10, 99_999}) {
            byte[] sent = bytes(100_000);
            assertArrayEquals(sent, ByteArrayMarshaller.readMessage(new Claimed(sent, claimed)), "claimed " + claimed);
        }
    }

    @Test
    void aStreamShorterThanItClaimsGivesWhatItHas() throws IOException {
        byte[] sent = bytes(1000);
        assertArrayEquals(sent, ByteArrayMarshaller.readMessage(new Claimed(sent, 5000)));
        assertArrayEquals(new byte[0], ByteArrayMarshaller.readMessage(new Claimed(new byte[0], 64)));
    }

    @Test
    void anyOtherStreamIsReadAsReadAllBytesWould() throws IOException {
        byte[] sent = bytes(70_000);
        InputStream plain = new ByteArrayInputStream(sent) {
            @Override
            public synchronized int available() {
                return 3; // a hint only: not KnownLength, so not believed
            }
        };
        assertArrayEquals(sent, ByteArrayMarshaller.readMessage(plain));
        assertArrayEquals(sent, new ByteArrayMarshaller().parse(new Claimed(sent, sent.length)));
    }

    private byte[] bytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    /** A stream that claims a length (rightly or not), as gRPC's own, and counts the bulk reads made of it. */
    private static final class Claimed extends ByteArrayInputStream implements KnownLength {
        private final int claimed;
        int bulkReads;

        Claimed(byte[] bytes, int claimed) {
            super(bytes);
            this.claimed = claimed;
        }

        @Override
        public synchronized int available() {
            return claimed;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            bulkReads++;
            return super.read(b, off, len);
        }
    }
}
