package dev.holdfast.protocol;

import dev.holdfast.testkit.ClaimedLengthStream;
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
            ClaimedLengthStream stream = new ClaimedLengthStream(sent, sent.length);
            assertArrayEquals(sent, ByteArrayMarshaller.readMessage(stream), "size " + size);
            assertEquals(1, stream.bulkReads(), "size " + size + ": one read into the message's own array");
        }
    }

    @Test
    void aStreamLongerThanItClaimsIsReadToItsEnd() throws IOException {
        for (int claimed : new int[]{0, 1, 10, 99_999}) {
            byte[] sent = bytes(100_000);
            assertArrayEquals(sent, ByteArrayMarshaller.readMessage(new ClaimedLengthStream(sent, claimed)),
                    "claimed " + claimed);
        }
    }

    @Test
    void aStreamShorterThanItClaimsGivesWhatItHas() throws IOException {
        byte[] sent = bytes(1000);
        assertArrayEquals(sent, ByteArrayMarshaller.readMessage(new ClaimedLengthStream(sent, 5000)));
        assertArrayEquals(new byte[0], ByteArrayMarshaller.readMessage(new ClaimedLengthStream(new byte[0], 64)));
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
        assertArrayEquals(sent, new ByteArrayMarshaller().parse(new ClaimedLengthStream(sent, sent.length)));
    }

    private byte[] bytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }
}
