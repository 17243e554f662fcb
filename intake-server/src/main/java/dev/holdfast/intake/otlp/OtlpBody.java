package dev.holdfast.intake.otlp;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * An OTLP request body as read from gRPC: its bytes, or why there are none. Reading stops one byte past the limit,
 * so a gzip bomb is inflated no further than that, and is answered INVALID_ARGUMENT (a retryable status would have
 * the sender send it again forever).
 *
 * @param problem null when {@code bytes} is the whole body
 */
record OtlpBody(byte[] bytes, String problem) {

    /** Reads a request's bytes, at most {@code limit}; gRPC has undone gzip by then, lazily, as they are read. */
    static MethodDescriptor.Marshaller<OtlpBody> marshaller(long limit) {
        int max = (int) Math.min(Integer.MAX_VALUE - 8, limit);
        return new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(OtlpBody value) {
                return new ByteArrayInputStream(value.bytes());
            }

            @Override
            public OtlpBody parse(InputStream stream) {
                try (stream) {
                    byte[] bytes = stream.readNBytes(max + 1);
                    if (bytes.length > max) {
                        return new OtlpBody(new byte[0], "request is over the limit of " + max
                                + " bytes (limits.maxBatchBytes) once decompressed; read no further");
                    }
                    return new OtlpBody(bytes, null);
                } catch (IOException e) {
                    return new OtlpBody(new byte[0], "request body could not be read (damaged gzip?): "
                            + e.getMessage());
                }
            }
        };
    }
}
