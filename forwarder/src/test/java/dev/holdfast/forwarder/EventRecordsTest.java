package dev.holdfast.forwarder;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.WalRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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

    private static String header(ProducerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
