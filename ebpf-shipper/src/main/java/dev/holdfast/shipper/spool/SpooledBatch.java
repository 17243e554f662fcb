package dev.holdfast.shipper.spool;

import com.google.protobuf.CodedOutputStream;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One batch as the spool holds it: its wire seq, priority, and the events already encoded as EventBatch field-3
 * entries (so neither the spool nor the send path re-encodes events).
 */
public record SpooledBatch(long seq, Priority priority, int eventCount, byte[] encodedEvents) {

    /** The EventBatch bytes for {@code agentId}: header fields written, the events copied as they are. */
    public byte[] wireBytes(String agentId) {
        int size = CodedOutputStream.computeStringSize(EventBatch.AGENT_ID_FIELD_NUMBER, agentId)
                + CodedOutputStream.computeUInt64Size(EventBatch.BATCH_SEQ_FIELD_NUMBER, seq)
                + encodedEvents.length;
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            o.writeString(EventBatch.AGENT_ID_FIELD_NUMBER, agentId);
            o.writeUInt64(EventBatch.BATCH_SEQ_FIELD_NUMBER, seq);
            o.writeRawBytes(encodedEvents);
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
