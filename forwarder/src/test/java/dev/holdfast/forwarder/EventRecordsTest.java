package dev.holdfast.forwarder;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.WalRecord;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class EventRecordsTest {
    @Test
    void oneRecordPerEventWithExactBytesAndStableIds() throws Exception {
        EventBatch batch = EventBatch.newBuilder().setAgentId("agent-7").setBatchSeq(42)
                .addEvents(Event.newBuilder().setPriority(Priority.CRITICAL).setTimeUnixNano(1)
                        .setFile(FileEvent.newBuilder().setPath("/etc/passwd").setKind(FileEvent.Kind.MODIFY)))
                .addEvents(Event.newBuilder().setTimeUnixNano(2).putAttributes("k", "v"))
                .addEvents(Event.newBuilder().setPriority(Priority.BULK).setOpaque(com.google.protobuf.ByteString.copyFromUtf8("x")))
                .build();
        WalRecord rec = new WalRecord(77, "seg", new BatchHeader("agent-7", 42, 3, BatchPriority.CRITICAL, 123_000L),
                0, batch.toByteArray());
        List<ProducerRecord<byte[], byte[]>> out = new EventRecords("t", "node-a").toRecords(rec);
        assertEquals(3, out.size());
        for (int i = 0; i < 3; i++) {
            ProducerRecord<byte[], byte[]> r = out.get(i);
            assertEquals("t", r.topic());
            assertArrayEquals("agent-7".getBytes(StandardCharsets.UTF_8), r.key());
            assertArrayEquals(batch.getEvents(i).toByteArray(), r.value(), "value is the event as sent");
            assertEquals("agent-7/42/" + i, EventRecords.eventId(r.headers()));
            assertEquals("node-a", header(r, EventRecords.INTAKE_NODE));
            assertEquals("42", header(r, EventRecords.BATCH_SEQ));
            assertEquals("123000", header(r, EventRecords.RECEIVED_AT));
        }
        assertEquals("CRITICAL", header(out.get(0), EventRecords.PRIORITY));
        assertEquals("NORMAL", header(out.get(1), EventRecords.PRIORITY), "unspecified reads as NORMAL");
        assertEquals("BULK", header(out.get(2), EventRecords.PRIORITY));
    }

    @Test
    void thePriorityHeaderIsTheLastOccurrenceAsProtobufReadsIt() {
        // an event's bytes with priority written twice: protobuf (and the intake, which sheds by it) take the last
        byte[] bulkThenCritical = concat(Event.newBuilder().setPriority(Priority.BULK).setTimeUnixNano(1).build(),
                Event.newBuilder().setPriority(Priority.CRITICAL).build());
        byte[] criticalThenBulk = concat(Event.newBuilder().setPriority(Priority.CRITICAL).build(),
                Event.newBuilder().setPriority(Priority.BULK).setTimeUnixNano(1).build());
        for (byte[] event : List.of(bulkThenCritical, criticalThenBulk)) {
            Priority parsed = parse(event).getPriority();
            assertEquals(parsed, EventRecords.priorityOf(event));
        }
        assertEquals(Priority.CRITICAL, EventRecords.priorityOf(bulkThenCritical));
        // an unknown number last reads as NORMAL, as protobuf's UNRECOGNIZED does at the intake
        byte[] criticalThenUnknown = concat(Event.newBuilder().setPriority(Priority.CRITICAL).build(),
                Event.newBuilder().setPriorityValue(99).build());
        assertEquals(Priority.NORMAL, EventRecords.priorityOf(criticalThenUnknown));
    }

    private static byte[] concat(Event a, Event b) {
        byte[] x = a.toByteArray(), y = b.toByteArray();
        byte[] out = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }

    private static Event parse(byte[] event) {
        try {
            return Event.parseFrom(event);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void seqsAtAndAbove2To63AreWrittenUnsigned() throws Exception {
        for (long seq : new long[]{Long.MAX_VALUE, Long.MIN_VALUE, -1L}) {
            EventBatch batch = EventBatch.newBuilder().setAgentId("u").setBatchSeq(seq)
                    .addEvents(Event.newBuilder().setTimeUnixNano(1)).build();
            WalRecord rec = new WalRecord(1, "seg", new BatchHeader("u", seq, 1, BatchPriority.NORMAL, 1L), 0,
                    batch.toByteArray());
            ProducerRecord<byte[], byte[]> r = new EventRecords("t", "n").toRecords(rec).get(0);
            assertEquals(Long.toUnsignedString(seq), header(r, EventRecords.BATCH_SEQ));
            assertEquals("u/" + Long.toUnsignedString(seq) + "/0", EventRecords.eventId(r.headers()));
        }
        WalRecord max = new WalRecord(1, "seg", new BatchHeader("u", -1L, 1, BatchPriority.NORMAL, 1L), 0,
                EventBatch.newBuilder().addEvents(Event.newBuilder()).build().toByteArray());
        assertEquals("18446744073709551615",
                header(new EventRecords("t", "n").toRecords(max).get(0), EventRecords.BATCH_SEQ));
    }

    @Test
    void jsonValuesParseBackToTheSameEventsWithTheSameHeaders() throws Exception {
        byte[] opaque = {0, 1, 2, (byte) 0xfb, (byte) 0xff, 'x'};
        EventBatch batch = EventBatch.newBuilder().setAgentId("agent-7").setBatchSeq(42)
                .addEvents(Event.newBuilder().setPriority(Priority.CRITICAL).setTimeUnixNano(-1L) // fixed64 max
                        .putAttributes("host", "h1").putAttributes("quote", "a \"b\"\né")
                        .setFile(FileEvent.newBuilder().setPath("/etc/passwd").setKind(FileEvent.Kind.RENAME)
                                .setNewPath("/etc/passwd-").setPid(12).setInode(1L << 40).setReturnValue(-2)))
                .addEvents(Event.newBuilder().setTimeUnixNano(2))
                .addEvents(Event.newBuilder().setPriority(Priority.BULK).setOpaque(ByteString.copyFrom(opaque)))
                .build();
        WalRecord rec = new WalRecord(77, "seg", new BatchHeader("agent-7", 42, 3, BatchPriority.CRITICAL, 123_000L),
                0, batch.toByteArray());
        List<ProducerRecord<byte[], byte[]>> json = new EventRecords("t", "node-a", ValueEncoding.JSON).toRecords(rec);
        List<ProducerRecord<byte[], byte[]>> proto = new EventRecords("t", "node-a").toRecords(rec);

        assertEquals(3, json.size());
        for (int i = 0; i < 3; i++) {
            String text = new String(json.get(i).value(), StandardCharsets.UTF_8);
            System.out.println(text);
            assertFalse(text.contains("\n"), "one line: " + text);
            Event.Builder back = Event.newBuilder();
            JsonFormat.parser().merge(text, back);
            assertEquals(Event.parseFrom(proto.get(i).value()), back.build(), "the same event as the protobuf bytes");
            assertEquals(batch.getEvents(i), back.build());

            // the headers are those of the protobuf record, plus the encoding
            List<Header> protoHeaders = Arrays.asList(proto.get(i).headers().toArray());
            List<Header> jsonHeaders = Arrays.asList(json.get(i).headers().toArray());
            assertEquals(protoHeaders, jsonHeaders.subList(0, jsonHeaders.size() - 1));
            assertEquals("json", header(json.get(i), EventRecords.ENCODING));
            assertNull(proto.get(i).headers().lastHeader(EventRecords.ENCODING), "protobuf records are unchanged");
            assertArrayEquals(proto.get(i).key(), json.get(i).key());
        }
        String first = new String(json.get(0).value(), StandardCharsets.UTF_8);
        assertTrue(first.startsWith("{\"timeUnixNano\":\"18446744073709551615\",\"priority\":\"CRITICAL\","), first);
        assertTrue(first.contains("\"kind\":\"RENAME\""), first);
        assertTrue(first.contains("\"inode\":\"1099511627776\""), "64-bit integers are strings: " + first);
        assertEquals("{\"timeUnixNano\":\"2\"}", new String(json.get(1).value(), StandardCharsets.UTF_8),
                "fields at their default are left out");
        assertEquals("{\"priority\":\"BULK\",\"opaque\":\"" + Base64.getEncoder().encodeToString(opaque) + "\"}",
                new String(json.get(2).value(), StandardCharsets.UTF_8), "bytes are standard base64 with padding");
    }

    @Test
    void anEventThatDoesNotParseIsAnErrorInJsonOnly() throws Exception {
        // an events entry whose bytes are not an Event (a truncated varint); the protobuf encoding never parses it
        byte[] batch = {(byte) (EventBatch.EVENTS_FIELD_NUMBER << 3 | 2), 2, 8, (byte) 0x80};
        WalRecord rec = new WalRecord(1, "seg", new BatchHeader("u", 1, 1, BatchPriority.NORMAL, 1L), 0, batch);
        assertEquals(1, new EventRecords("t", "n").toRecords(rec).size());
        assertThrows(java.io.IOException.class, () -> new EventRecords("t", "n", ValueEncoding.JSON).toRecords(rec));
    }

    @Test
    void encodingsParseByTheirConfigNamesOnly() {
        assertEquals(ValueEncoding.PROTOBUF, ValueEncoding.parse("protobuf"));
        assertEquals(ValueEncoding.JSON, ValueEncoding.parse("json"));
        assertEquals("protobuf|json", ValueEncoding.allowed());
        for (String bad : new String[]{"avro", "JSON", " json", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ValueEncoding.parse(bad));
            assertEquals("unknown value encoding \"" + bad + "\": expected protobuf|json", e.getMessage());
        }
        assertEquals("unknown value encoding null: expected protobuf|json",
                assertThrows(IllegalArgumentException.class, () -> ValueEncoding.parse(null)).getMessage());
        assertEquals(ValueEncoding.PROTOBUF, new EventRecords("t", "n").encoding());
    }

    private static String header(ProducerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
