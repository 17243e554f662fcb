package dev.holdfast.forwarder.deadletter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Where an event goes that Kafka will never take: to the dead-letter topic (the original record's key, value and
 * headers, plus {@code holdfast.dlq.*} headers saying why), and if that topic refuses it too (it is just as large,
 * or the topic cannot be written), only to the local {@link DeadLetterFile}. Either way the dead letter is written
 * to that file and synced before its record counts as delivered, so it is listed, can be sent again, and a resend of
 * its batch does not dead-letter it a second time.
 */
public final class DeadLetters implements AutoCloseable {
    public static final String REASON = "holdfast.dlq.reason";
    public static final String ERROR_CLASS = "holdfast.dlq.error_class";
    public static final String ERROR_MESSAGE = "holdfast.dlq.error_message";
    public static final String ORIGINAL_TOPIC = "holdfast.dlq.original_topic";
    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_MESSAGE_HEADER = 1024;

    private final String topic;
    private final Producer<byte[], byte[]> producer;
    private final DeadLetterFile file;
    private final MeterRegistry registry;
    private final Clock clock;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    /** Syncs the file off the producer's I/O thread, which must never wait for a disk. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "forwarder-dead-letters");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param topic    the dead-letter topic
     * @param producer sends to it; owned by the caller
     */
    public DeadLetters(String topic, Producer<byte[], byte[]> producer, DeadLetterFile file, MeterRegistry registry,
                       Clock clock) {
        this.topic = topic;
        this.producer = producer;
        this.file = file;
        this.registry = registry;
        this.clock = clock;
        // both destinations exist from the start, so a dashboard shows 0 rather than no series
        counter("record_too_large", "topic");
    }

    public String topic() {
        return topic;
    }

    /** True while nothing was ever dead-lettered here (the usual case): no event needs looking up. */
    public boolean isEmpty() {
        return file.isEmpty();
    }

    /** True when this event was dead-lettered before: a resend of its batch leaves it out. */
    public boolean contains(String eventId) {
        return file.contains(eventId);
    }

    /**
     * Dead-letters one event. Completes once it is in the file (and in the topic, if the topic took it); fails only
     * when the file cannot be written, and then the caller must treat the record as not delivered.
     */
    public CompletableFuture<Void> send(ProducerRecord<byte[], byte[]> original, String eventId, long walIndex,
                                        String reason, Throwable error) {
        String errorText = error.getClass().getName() + ": " + error.getMessage();
        RecordHeaders headers = new RecordHeaders(original.headers().toArray());
        headers.add(new RecordHeader(REASON, bytes(reason)));
        headers.add(new RecordHeader(ERROR_CLASS, bytes(error.getClass().getName())));
        headers.add(new RecordHeader(ERROR_MESSAGE, bytes(truncate(String.valueOf(error.getMessage())))));
        headers.add(new RecordHeader(ORIGINAL_TOPIC, bytes(original.topic())));
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null, original.key(), original.value(),
                headers);
        // sent from this class's thread: the caller may be the main producer's I/O thread, and this send can block
        // on the dead-letter topic's metadata
        CompletableFuture<TopicOutcome> outcome = CompletableFuture.supplyAsync(() -> toTopic(letter), writer)
                .thenCompose(f -> f);
        return outcome.thenAcceptAsync(o -> {
            String dest = o.destination();
            String err = o.refusal() == null ? errorText
                    : errorText + "; dead-letter topic " + topic + " refused it too: " + o.refusal();
            List<DeadLetter.Header> hs = new ArrayList<>();
            original.headers().forEach(h -> hs.add(new DeadLetter.Header(h.key(), h.value())));
            try {
                file.append(new DeadLetter(clock.millis(), walIndex, eventId, original.topic(), reason, err, dest,
                        original.key(), original.value(), hs));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            String destTag = dest.equals(DeadLetter.FILE) ? "file" : "topic";
            counter(reason, destTag).increment();
            log.warn("event {} (WAL record {}) dead-lettered to {}: {}", eventId, Long.toHexString(walIndex),
                    dest.equals(DeadLetter.FILE) ? file.path() : dest, err);
        }, writer);
    }

    private CompletableFuture<TopicOutcome> toTopic(ProducerRecord<byte[], byte[]> letter) {
        CompletableFuture<TopicOutcome> outcome = new CompletableFuture<>();
        try {
            producer.send(letter, (md, e) -> outcome.complete(e == null ? new TopicOutcome("topic " + md.topic()
                    + " partition " + md.partition() + " offset " + md.offset(), null)
                    : new TopicOutcome(DeadLetter.FILE, e)));
        } catch (RuntimeException e) {
            outcome.complete(new TopicOutcome(DeadLetter.FILE, e));
        }
        return outcome;
    }

    /** Where the dead-letter topic send ended: a topic position, or the file because of {@code refusal}. */
    private record TopicOutcome(String destination, Throwable refusal) {
    }

    private Counter counter(String reason, String destination) {
        return counters.computeIfAbsent(reason + "/" + destination, k -> Counter.builder("forwarder.dead.letters")
                .description("Events Kafka refused for good, by reason and where they went (topic or local file)")
                .tag("reason", reason).tag("destination", destination).register(registry));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String truncate(String s) {
        return s.length() <= MAX_MESSAGE_HEADER ? s : s.substring(0, MAX_MESSAGE_HEADER) + "…";
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            file.close();
        } catch (java.io.IOException e) {
            log.warn("closing {}: {}", file.path(), e.toString());
        }
    }
}
