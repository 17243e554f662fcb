package dev.holdfast.protocol;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Passes protobuf bytes through gRPC untouched, in both directions: the intake keeps batches exactly as received, and
 * the load generator sends batches it encoded once. The stream implements
 * {@link KnownLength} and {@link Drainable} so the framer writes the array in one go instead of
 * copying it through an intermediate buffer. Received, a message is copied once ({@link #readMessage}).
 */
public final class ByteArrayMarshaller implements MethodDescriptor.Marshaller<byte[]> {

    @Override
    public InputStream stream(byte[] value) {
        return new DrainableBytes(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
        try (stream) {
            return readMessage(stream);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read message", e);
        }
    }

    /**
     * The whole of a message gRPC hands a marshaller, in one array. gRPC's stream knows its length ({@link
     * KnownLength}), so the bytes are copied once, into an array of that size. {@link InputStream#readAllBytes} reads
     * 8 KiB chunks and then copies them again into its result: at full load, with batches of 100 KB, that was a
     * quarter of the CPU of the intake's threads that decode batches. A stream that turns out shorter or longer than
     * it said is read to its end all the same, and any other stream as readAllBytes would.
     */
    public static byte[] readMessage(InputStream stream) throws IOException {
        if (!(stream instanceof KnownLength)) {
            return stream.readAllBytes();
        }
        int length = stream.available();
        byte[] bytes = new byte[length];
        int read = stream.readNBytes(bytes, 0, length);
        if (read < length) {
            return Arrays.copyOf(bytes, read);
        }
        int next = stream.read();
        if (next < 0) {
            return bytes;
        }
        ByteArrayOutputStream longer = new ByteArrayOutputStream(length + 8192);
        longer.write(bytes);
        longer.write(next);
        stream.transferTo(longer);
        return longer.toByteArray();
    }

    private static final class DrainableBytes extends ByteArrayInputStream implements KnownLength, Drainable {
        DrainableBytes(byte[] bytes) {
            super(bytes);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
