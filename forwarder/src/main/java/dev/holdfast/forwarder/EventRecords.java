package dev.holdfast.forwarder;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.WalRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one WAL record (a batch) into one Kafka record per event. The event bytes are sliced out of the stored batch
 * as they are, never parsed and re-serialised: the value in Kafka is exactly the {@code holdfast.v1.Event} the agent
 * sent.
 *
 * <p>Headers: {@code holdfast.event_id} = {@code <agent_id>/<batch_seq>/<index in batch>} is stable whichever intake
 * node wrote the batch, so a consumer can de-duplicate even across fail-over; the agent id, batch seq, event
 * priority, intake node and receive time ride along.
 */
public final class EventRecords {
    public static final String EVENT_ID = "holdfast.event_id";
    public static final String AGENT_ID = "holdfast.agent_id";
    public static final String BATCH_SEQ = "holdfast.batch_seq";
    public static final String PRIORITY = "holdfast.priority";
    public static final String INTAKE_NODE = "holdfast.intake_node";
    public static final String RECEIVED_AT = "holdfast.received_at_unix_nano";

    private final String topic;
    private final byte[] node;

    public EventRecords(String topic, String intakeNode) {
        this.topic = topic;
        this.node = intakeNode.getBytes(StandardCharsets.UTF_8);
    }

    public List<ProducerRecord<byte[], byte[]>> toRecords(WalRecord record) throws IOException {
        String agent = record.header().agentId();
        byte[] key = agent.getBytes(StandardCharsets.UTF_8);
        String unsignedSeq = Long.toUnsignedString(record.header().batchSeq()); // batch_seq is a uint64
        byte[] seq = unsignedSeq.getBytes(StandardCharsets.US_ASCII);
        byte[] receivedAt = Long.toString(record.header().receivedAtEpochNanos()).getBytes(StandardCharsets.US_ASCII);
        String idPrefix = agent + "/" + unsignedSeq + "/";
        List<byte[]> events = sliceEvents(record.payload());
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            byte[] value = events.get(i);
            RecordHeaders headers = new RecordHeaders();
            headers.add(new RecordHeader(EVENT_ID, (idPrefix + i).getBytes(StandardCharsets.UTF_8)));
            headers.add(new RecordHeader(AGENT_ID, key));
            headers.add(new RecordHeader(BATCH_SEQ, seq));
            headers.add(new RecordHeader(PRIORITY, priorityOf(value).name().getBytes(StandardCharsets.US_ASCII)));
            headers.add(new RecordHeader(INTAKE_NODE, node));
            headers.add(new RecordHeader(RECEIVED_AT, receivedAt));
            out.add(new ProducerRecord<>(topic, null, key, value, headers));
        }
        return out;
    }

    /** The bytes of each {@code events} entry of an EventBatch, in order. */
    static List<byte[]> sliceEvents(byte[] batch) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(batch);
        List<byte[]> events = new ArrayList<>();
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(tag) == EventBatch.EVENTS_FIELD_NUMBER
                    && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                events.add(in.readByteArray());
            } else {
                in.skipField(tag);
            }
        }
        return events;
    }

    /** The event's priority field, read without parsing the rest of the event. */
    static Priority priorityOf(byte[] event) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(event);
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == Event.PRIORITY_FIELD_NUMBER
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                    Priority p = Priority.forNumber(in.readEnum());
                    return p == null || p == Priority.PRIORITY_UNSPECIFIED ? Priority.NORMAL : p;
                }
                in.skipField(tag);
            }
        } catch (IOException e) {
            // validated at intake; unreadable here only if damaged, and then NORMAL is the honest default
        }
        return Priority.NORMAL;
    }

    /** Parses the event id header back, for consumers and tests. */
    public static String eventId(org.apache.kafka.common.header.Headers headers) {
        var h = headers.lastHeader(EVENT_ID);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

}
