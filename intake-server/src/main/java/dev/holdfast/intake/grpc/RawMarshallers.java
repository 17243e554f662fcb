package dev.holdfast.intake.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Hello;
import io.grpc.MethodDescriptor;

import java.io.IOException;
import java.io.InputStream;

/**
 * Request marshallers that keep batches as raw bytes. Generated marshallers would parse every event and the WAL
 * would then store a re-serialisation; these hand the intake the bytes exactly as received, and never throw on
 * malformed input (a throwing marshaller would kill the whole stream instead of answering that one batch INVALID).
 */
final class RawMarshallers {
    private RawMarshallers() {
    }

    static final MethodDescriptor.Marshaller<InboundMessage> AGENT_MESSAGE = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InboundMessage value) {
            throw new UnsupportedOperationException("server side only: requests are never sent by the intake");
        }

        @Override
        public InboundMessage parse(InputStream stream) {
            try {
                return decode(stream.readAllBytes());
            } catch (IOException e) {
                return new InboundMessage.Malformed("could not read message: " + e.getMessage());
            }
        }
    };

    /** Splits an AgentMessage into its one field without parsing the batch inside. */
    static InboundMessage decode(byte[] bytes) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            InboundMessage result = null;
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case AgentMessage.HELLO_FIELD_NUMBER -> {
                        Hello hello = Hello.parseFrom(in.readBytes());
                        result = new InboundMessage.Hello(hello.getAgentId(), hello.getAcknowledgedThrough());
                    }
                    case AgentMessage.BATCH_FIELD_NUMBER -> result = new InboundMessage.Batch(in.readByteArray());
                    default -> in.skipField(tag);
                }
            }
            return result != null ? result
                    : new InboundMessage.Malformed("AgentMessage carries neither hello nor batch");
        } catch (InvalidProtocolBufferException e) {
            return new InboundMessage.Malformed("malformed protobuf: " + e.getMessage());
        } catch (IOException e) {
            return new InboundMessage.Malformed("malformed protobuf: " + e.getMessage());
        }
    }
}
