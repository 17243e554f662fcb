package dev.holdfast.intake.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Hello;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;

import java.io.ByteArrayOutputStream;
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
                return read(stream);
            } catch (IOException e) {
                return new InboundMessage.Malformed("could not read message: " + e.getMessage());
            }
        }
    };

    /** AgentMessage's batch field as it starts on the wire: field 2, length-delimited. */
    private static final int BATCH_TAG = AgentMessage.BATCH_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    /** The tag and the longest length varint a batch can have (protobuf reads a length as 32 bits: five bytes). */
    private static final int BATCH_HEAD_MAX = 6;

    /**
     * As {@code decode(ByteArrayMarshaller.readMessage(stream))}, in one copy where an agent's message is what every
     * agent sends: one batch field and nothing else. Its batch is then read from gRPC's buffers straight into an
     * array of its own, where reading the message whole and then the field out of it copied each batch twice (the
     * copies were a tenth of the event loop's time at full load). Anything else, a stream that says more or less than
     * it holds included, is read whole and decoded.
     */
    static InboundMessage read(InputStream stream) throws IOException {
        if (!(stream instanceof KnownLength)) {
            return decode(ByteArrayMarshaller.readMessage(stream));
        }
        int total = stream.available();
        byte[] head = new byte[Math.max(0, Math.min(total, BATCH_HEAD_MAX))];
        int got = stream.readNBytes(head, 0, head.length);
        long length = 0;
        int start = 0; // where the batch starts in head: after the tag and its length; 0 while not found
        if (got == head.length && got >= 2 && (head[0] & 0xFF) == BATCH_TAG) {
            for (int i = 1, shift = 0; i < got; i++, shift += 7) {
                length |= (long) (head[i] & 0x7F) << shift;
                if (head[i] >= 0) {
                    start = i + 1;
                    break;
                }
            }
        }
        if (start > 0 && start + length == total) {
            byte[] batch = new byte[(int) length];
            int prefix = got - start; // the batch's first bytes, read with the head
            System.arraycopy(head, start, batch, 0, prefix);
            int read = stream.readNBytes(batch, prefix, batch.length - prefix);
            int next = read == batch.length - prefix ? stream.read() : -1;
            if (read == batch.length - prefix && next < 0) {
                return new InboundMessage.Batch(batch);
            }
            // the stream held less or more than it said: the message is what it held
            ByteArrayOutputStream all = new ByteArrayOutputStream(total + 64);
            all.write(head, 0, start);
            all.write(batch, 0, prefix + read);
            if (next >= 0) {
                all.write(next);
            }
            stream.transferTo(all);
            return decode(all.toByteArray());
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream(Math.max(total, got) + 64);
        all.write(head, 0, got);
        stream.transferTo(all);
        return decode(all.toByteArray());
    }

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
