package dev.holdfast.forwarder.deadletter;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends dead letters again, once an operator has fixed what made Kafka refuse them (raised a topic's
 * {@code max.message.bytes}, granted a permission): each with its original key, value and headers, so consumers
 * de-duplicate it by {@code holdfast.event_id} like any resend.
 */
public final class DeadLetterReplay {
    /** @param failed the first send that failed, null when all were sent */
    public record Result(long sent, long failed, String firstError) {
    }

    private DeadLetterReplay() {
    }

    /**
     * @param topic null: each to the topic it was meant for
     */
    public static Result run(List<DeadLetter> letters, String topic, Producer<byte[], byte[]> producer)
            throws IOException {
        AtomicLong sent = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        for (DeadLetter d : letters) {
            RecordHeaders headers = new RecordHeaders();
            d.headers().forEach(h -> headers.add(new RecordHeader(h.key(), h.value())));
            producer.send(new ProducerRecord<>(topic != null ? topic : d.topic(), null, d.key(), d.value(), headers),
                    (md, e) -> {
                        if (e == null) {
                            sent.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            firstError.compareAndSet(null, "event " + d.eventId() + ": " + e);
                        }
                    });
        }
        producer.flush();
        return new Result(sent.get(), failed.get(), firstError.get());
    }
}
