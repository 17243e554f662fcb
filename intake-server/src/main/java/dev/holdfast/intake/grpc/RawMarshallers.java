package dev.holdfast.intake.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.ByteArrayMarshaller;
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
                return decode(ByteArrayMarshaller.readMessage(stream));
            } catch (IOException e) {
                return new InboundMessage.Malformed("could not read message: " + e.getMessage());
            }
        }
    };

    /**
     * Splits an AgentMessage into its one field without parsing the batch inside. A message with more than one
     * (hello and batch, or either twice) is {@link InboundMessage.Ambiguous}, not "last field wins".
     */
    static InboundMessage decode(byte[] bytes) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            Hello hello = null;
            byte[] batch = null;
            int hellos = 0;
            int batches = 0;
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                boolean known = field == AgentMessage.HELLO_FIELD_NUMBER || field == AgentMessage.BATCH_FIELD_NUMBER;
                if (known && WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    return new InboundMessage.Malformed("malformed protobuf: AgentMessage field " + field
                            + " is not length-delimited");
                }
                switch (field) {
                    case AgentMessage.HELLO_FIELD_NUMBER -> {
                        hello = Hello.parseFrom(in.readBytes());
                        hellos++;
                    }
                    case AgentMessage.BATCH_FIELD_NUMBER -> {
                        batch = in.readByteArray();
                        batches++;
                    }
                    default -> in.skipField(tag);
                }
            }
            if (hellos > 0 && batches > 0) {
                return new InboundMessage.Ambiguous("AgentMessage carries both hello and batch; they are one oneof: "
                        + "send the Hello first, then each batch, as separate messages");
            }
            if (hellos > 1 || batches > 1) {
                return new InboundMessage.Ambiguous("AgentMessage carries " + Math.max(hellos, batches) + " "
                        + (hellos > 1 ? "hello" : "batch") + " fields; send one per message");
            }
            if (hello != null) {
                return new InboundMessage.Hello(hello.getAgentId(), hello.getAcknowledgedThrough());
            }
            return batch != null ? new InboundMessage.Batch(batch)
                    : new InboundMessage.Malformed("AgentMessage carries neither hello nor batch");
        } catch (IOException e) {
            return new InboundMessage.Malformed("malformed protobuf: " + e.getMessage());
        }
    }
}
