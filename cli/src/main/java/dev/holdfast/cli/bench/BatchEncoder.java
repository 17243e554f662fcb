package dev.holdfast.cli.bench;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.EventBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Encodes {@code AgentMessage{batch: EventBatch{agent_id, batch_seq, events...}}} straight from
 * pre-serialized events, byte-for-byte what the generated builder would produce, without
 * materialising any message objects. Field numbers are taken from the generated classes so a
 * renumbering in the .proto cannot silently diverge (and BatchEncoderTest checks the bytes).
 */
final class BatchEncoder {

    static final int BATCH_FIELD = AgentMessage.BATCH_FIELD_NUMBER;
    static final int AGENT_ID_FIELD = EventBatch.AGENT_ID_FIELD_NUMBER;
    static final int SEQ_FIELD = EventBatch.BATCH_SEQ_FIELD_NUMBER;
    static final int EVENTS_FIELD = EventBatch.EVENTS_FIELD_NUMBER;

    private final EventPool pool;
    private final int eventsPerBatch;

    BatchEncoder(EventPool pool, int eventsPerBatch) {
        if (eventsPerBatch < 1) {
            throw new IllegalArgumentException("eventsPerBatch must be >= 1");
        }
        this.pool = pool;
        this.eventsPerBatch = eventsPerBatch;
    }

    int eventsPerBatch() {
        return eventsPerBatch;
    }

    /**
     * Encodes one batch whose events are taken from the pool starting at {@code firstEvent}
     * (wrapping around), so consecutive batches carry different events.
     */
    EncodedBatch encode(String agentId, long batchSeq, int firstEvent) {
        byte[] agentIdUtf8 = agentId.getBytes(StandardCharsets.UTF_8);
        int poolSize = pool.size();
        int start = Math.floorMod(firstEvent, poolSize);

        // proto3 omits default-valued scalars; mirror that so the bytes match generated code.
        int batchLen = 0;
        if (agentIdUtf8.length > 0) {
            batchLen += CodedOutputStream.computeByteArraySize(AGENT_ID_FIELD, agentIdUtf8);
        }
        if (batchSeq != 0) {
            batchLen += CodedOutputStream.computeUInt64Size(SEQ_FIELD, batchSeq);
        }
        long payloadBytes = 0;
        for (int i = 0, idx = start; i < eventsPerBatch; i++, idx = next(idx, poolSize)) {
            batchLen += pool.fieldSize(idx);
            payloadBytes += pool.event(idx).length;
        }
        int total = CodedOutputStream.computeTagSize(BATCH_FIELD)
                + CodedOutputStream.computeUInt32SizeNoTag(batchLen) + batchLen;

        byte[] out = new byte[total];
        CodedOutputStream cos = CodedOutputStream.newInstance(out);
        try {
            cos.writeTag(BATCH_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            cos.writeUInt32NoTag(batchLen);
            if (agentIdUtf8.length > 0) {
                // a string field is the same on the wire as bytes holding its UTF-8 encoding
                cos.writeByteArray(AGENT_ID_FIELD, agentIdUtf8);
            }
            if (batchSeq != 0) {
                cos.writeUInt64(SEQ_FIELD, batchSeq);
            }
            for (int i = 0, idx = start; i < eventsPerBatch; i++, idx = next(idx, poolSize)) {
                cos.writeByteArray(EVENTS_FIELD, pool.event(idx));
            }
            cos.checkNoSpaceLeft();
        } catch (IOException e) {
            // only possible if the size arithmetic above is wrong
            throw new UncheckedIOException("batch size miscomputed", e);
        }
        return new EncodedBatch(batchSeq, out, eventsPerBatch, payloadBytes);
    }

    private static int next(int idx, int poolSize) {
        int n = idx + 1;
        return n == poolSize ? 0 : n;
    }

    /** A batch ready to send: the full AgentMessage bytes plus what it counts for in the report. */
    record EncodedBatch(long seq, byte[] wireBytes, int events, long payloadBytes) {
    }
}
