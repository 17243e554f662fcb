package dev.holdfast.forwarder;

import dev.holdfast.wal.ScanProgress;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Re-sends a range of a WAL to Kafka with a plain idempotent producer: for operators (a WAL directory copied off a
 * dead node can be replayed from anywhere) and as the baseline the forwarder's throughput is measured against.
 * Records carry the same event ids as forwarded ones, so consumers de-duplicate replays like any resend.
 */
public final class WalReplay {

    /** Which records: index bounds and receive-time bounds, each inclusive and optional. */
    public record Range(Long fromIndex, Long toIndex, Instant fromTime, Instant toTime) {
        public static final Range ALL = new Range(null, null, null, null);

        public boolean includes(WalRecord r) {
            long at = r.header().receivedAtEpochNanos();
            return (fromIndex == null || r.index() >= fromIndex) && (toIndex == null || r.index() <= toIndex)
                    && (fromTime == null || at >= nanos(fromTime)) && (toTime == null || at <= nanos(toTime));
        }

        private static long nanos(Instant t) {
            return t.getEpochSecond() * 1_000_000_000L + t.getNano();
        }
    }

    public record Result(long records, long events, long bytes, long corrupt, double seconds) {
    }

    private WalReplay() {
    }

    /**
     * Replays the range. {@code producer} null means a dry run (count only). {@code progress} follows the reading of
     * the WAL's files (the sends trail it by at most the producer's buffer; the result counts what Kafka took).
     */
    public static Result run(WalInspector wal, Range range, RecordMapper mapper,
                             KafkaProducer<byte[], byte[]> producer, ScanProgress progress) throws IOException {
        long t0 = System.nanoTime();
        long[] counts = new long[4]; // records, events, bytes, corrupt
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        IOException[] mapping = {null};
        wal.forEach(range.fromIndex(), range.toIndex(), entry -> {
            if (failure.get() != null || mapping[0] != null) {
                return;
            }
            if (entry instanceof WalReader.Corrupt) {
                counts[3]++;
                return;
            }
            WalRecord r = ((WalReader.Valid) entry).record();
            if (!range.includes(r)) {
                return;
            }
            List<ProducerRecord<byte[], byte[]>> records;
            try {
                records = mapper.toRecords(r);
            } catch (IOException e) {
                mapping[0] = e;
                return;
            }
            counts[0]++;
            counts[1] += records.size();
            counts[2] += r.payload().length;
            for (ProducerRecord<byte[], byte[]> pr : records) {
                if (producer == null) {
                    acked.incrementAndGet();
                } else {
                    producer.send(pr, (md, e) -> {
                        if (e != null) failure.compareAndSet(null, e);
                        else acked.incrementAndGet();
                    });
                }
            }
        }, progress);
        if (mapping[0] != null) {
            throw mapping[0];
        }
        if (producer != null) {
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IOException("replay failed after " + acked.get() + " events: " + failure.get(), failure.get());
        }
        return new Result(counts[0], counts[1], counts[2], counts[3], (System.nanoTime() - t0) / 1e9);
    }
}
