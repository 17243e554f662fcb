package dev.holdfast.forwarder;

import dev.holdfast.wal.WalRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.util.List;

/** Turns one WAL record into the Kafka records that carry it; throws for a record it cannot read (damage). */
public interface RecordMapper {
    List<ProducerRecord<byte[], byte[]>> toRecords(WalRecord record) throws IOException;

    /** holdfast.v1 batches by {@code events}, OTLP requests by {@code otlp}: what one WAL holds. */
    static RecordMapper of(EventRecords events, OtlpRecords otlp) {
        return record -> record.header().kind().sequenced() ? events.toRecords(record) : otlp.toRecords(record);
    }
}
