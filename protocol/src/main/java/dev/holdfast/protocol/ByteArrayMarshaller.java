package dev.holdfast.protocol;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Passes protobuf bytes through gRPC untouched, in both directions: the intake keeps batches exactly as received, and
 * the load generator sends batches it encoded once. The stream implements
 * {@link KnownLength} and {@link Drainable} so the framer writes the array in one go instead of
 * copying it through an intermediate buffer.
 */
public final class ByteArrayMarshaller implements MethodDescriptor.Marshaller<byte[]> {

    @Override
    public InputStream stream(byte[] value) {
        return new DrainableBytes(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
        try (stream) {
            return stream.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read message", e);
        }
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
