package dev.holdfast.forwarder;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import com.google.protobuf.util.JsonFormat;
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
 * Turns one WAL record (a batch) into one Kafka record per event. With {@link ValueEncoding#PROTOBUF} (the default)
 * the event bytes are sliced out of the stored batch as they are, never parsed and re-serialised: the value in Kafka
 * is exactly the {@code holdfast.v1.Event} the agent sent. With {@link ValueEncoding#JSON} each event is parsed and
 * printed as the protobuf JSON mapping of {@code holdfast.v1.Event}, on one line (an event that does not parse makes
 * {@link #toRecords} throw, like a batch that does not).
 *
 * <p>Headers: {@code holdfast.event_id} = {@code <agent_id>/<batch_seq>/<index in batch>} is stable whichever intake
 * node wrote the batch, so a consumer can de-duplicate even across fail-over; the agent id, batch seq, event
 * priority, intake node and receive time ride along. JSON records also carry {@code holdfast.encoding: json};
 * protobuf records carry no encoding header (they are byte for byte what they always were), so a record without
 * it is protobuf.
 */
public final class EventRecords implements RecordMapper {
    public static final String EVENT_ID = "holdfast.event_id";
    public static final String AGENT_ID = "holdfast.agent_id";
    public static final String BATCH_SEQ = "holdfast.batch_seq";
    public static final String PRIORITY = "holdfast.priority";
    public static final String INTAKE_NODE = "holdfast.intake_node";
    public static final String RECEIVED_AT = "holdfast.received_at_unix_nano";
    /** Only on records whose value is JSON: {@code json}. A record without it is protobuf. */
    public static final String ENCODING = "holdfast.encoding";

    /** Compact (one line), canonical JSON mapping; immutable, so shared. */
    private static final JsonFormat.Printer JSON_PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final byte[] JSON_NAME = ValueEncoding.JSON.configName().getBytes(StandardCharsets.US_ASCII);

    private final String topic;
    private final byte[] node;
    private final ValueEncoding encoding;

    /** Protobuf values: the event bytes as the agent sent them. */
    public EventRecords(String topic, String intakeNode) {
        this(topic, intakeNode, ValueEncoding.PROTOBUF);
    }

    public EventRecords(String topic, String intakeNode, ValueEncoding encoding) {
        this.topic = topic;
        this.node = intakeNode.getBytes(StandardCharsets.UTF_8);
        this.encoding = java.util.Objects.requireNonNull(encoding, "encoding");
    }

    public ValueEncoding encoding() {
        return encoding;
    }

    @Override
    public List<ProducerRecord<byte[], byte[]>> toRecords(WalRecord record) throws IOException {
        if (!record.header().kind().sequenced()) {
            // an OTLP request would slice into nonsense "events": never send it as one
            throw new IOException("WAL record " + Long.toHexString(record.index()) + " is not a holdfast.v1 batch"
                    + " (kind " + record.header().kind() + ")");
        }
        String agent = record.header().agentId();
        byte[] key = agent.getBytes(StandardCharsets.UTF_8);
        String unsignedSeq = Long.toUnsignedString(record.header().batchSeq()); // batch_seq is a uint64
        byte[] seq = unsignedSeq.getBytes(StandardCharsets.US_ASCII);
        byte[] receivedAt = Long.toString(record.header().receivedAtEpochNanos()).getBytes(StandardCharsets.US_ASCII);
        String idPrefix = agent + "/" + unsignedSeq + "/";
        List<byte[]> events = sliceEvents(record.payload());
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            byte[] event = events.get(i);
            byte[] value = encoding == ValueEncoding.JSON ? toJson(event) : event;
            RecordHeaders headers = new RecordHeaders();
            headers.add(new RecordHeader(EVENT_ID, (idPrefix + i).getBytes(StandardCharsets.UTF_8)));
            headers.add(new RecordHeader(AGENT_ID, key));
            headers.add(new RecordHeader(BATCH_SEQ, seq));
            headers.add(new RecordHeader(PRIORITY, priorityOf(event).name().getBytes(StandardCharsets.US_ASCII)));
            headers.add(new RecordHeader(INTAKE_NODE, node));
            headers.add(new RecordHeader(RECEIVED_AT, receivedAt));
            if (encoding == ValueEncoding.JSON) {
                headers.add(new RecordHeader(ENCODING, JSON_NAME));
            }
            out.add(new ProducerRecord<>(topic, null, key, value, headers));
        }
        return out;
    }

    /** One event as the protobuf JSON mapping, one line, UTF-8. */
    static byte[] toJson(byte[] event) throws IOException {
        return JSON_PRINTER.print(Event.parseFrom(event)).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The bytes of each {@code events} entry of an EventBatch, in order: each becomes one Kafka record's value as it
     * is, which is why the intake measures an event by these bytes.
     */
    public static List<byte[]> sliceEvents(byte[] batch) throws IOException {
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

    /**
     * The event's priority field, read without parsing the rest of the event. The last occurrence wins, as in
     * protobuf and in the intake's validation (which sheds by it): the header must name the priority the event has.
     */
    static Priority priorityOf(byte[] event) {
        int number = Priority.NORMAL_VALUE;
        try {
            CodedInputStream in = CodedInputStream.newInstance(event);
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == Event.PRIORITY_FIELD_NUMBER
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                    number = in.readEnum();
                } else {
                    in.skipField(tag);
                }
            }
        } catch (IOException e) {
            // validated at intake; unreadable here only if damaged, and then NORMAL is the honest default
            return Priority.NORMAL;
        }
        Priority p = Priority.forNumber(number);
        return p == null || p == Priority.PRIORITY_UNSPECIFIED ? Priority.NORMAL : p;
    }

    /** Parses the event id header back, for consumers and tests. */
    public static String eventId(org.apache.kafka.common.header.Headers headers) {
        var h = headers.lastHeader(EVENT_ID);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

}
