package dev.holdfast.client;

import dev.holdfast.protocol.ByteArrayMarshaller;

import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The {@code holdfast.v1.IntakeService/Stream} method with a raw-bytes request side: the bench
 * sends hand-encoded AgentMessage bytes ({@link BatchEncoder}) and parses IntakeMessage replies
 * with the generated parser. On the wire it is indistinguishable from the generated stub.
 */
final class IntakeStreamMethod {

    private IntakeStreamMethod() {
    }

    static MethodDescriptor<byte[], IntakeMessage> create() {
        return MethodDescriptor.<byte[], IntakeMessage>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(IntakeServiceGrpc.getStreamMethod().getFullMethodName())
                .setRequestMarshaller(new ByteArrayMarshaller())
                .setResponseMarshaller(ProtoUtils.marshaller(IntakeMessage.getDefaultInstance()))
                .build();
    }
}
