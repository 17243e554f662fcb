package dev.holdfast.forwarder;

import dev.holdfast.forwarder.deadletter.DeadLetters;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sending lane: reads WAL records, sends each event to Kafka, and marks a record confirmed once Kafka has
 * acknowledged all of its events. The live lane and the backlog lane differ only in which records they pick
 * ({@link LiveLane}, {@link BacklogLane}); sending, capacity, the circuit breaker and failure handling are here.
 *
 * <p>An event Kafka refuses for good ({@link SendErrors}) is dead-lettered and counts as delivered, so it holds up
 * neither its own record, nor the lanes, nor retention; only transient errors leave a record to be sent again and
 * count against the circuit breaker.
 */
abstract class Lane implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);

    final String name;
    final Wal wal;
    final Progress progress;
    final ForwarderMetrics metrics;
    private final Producer<byte[], byte[]> producer;
    private final RecordMapper mapper;
    private final CircuitBreaker breaker;
    private final DeadLetters deadLetters;
    private final java.util.function.BooleanSupplier topicsChecked;
    private final java.util.function.BooleanSupplier topicUnavailable;
    private final AuthenticationFailures authenticationFailures;
    /** Wall time: ages and latencies are measured from receive times, which are epoch nanoseconds. */
    private final Clock clock;
    final AtomicLong inflightBytes = new AtomicLong();
    /** Set by a failed send; the lane reacts on its own thread (live: re-anchor, backlog: rescan). */
    final AtomicBoolean sendFailed = new AtomicBoolean();
    private final Thread thread;
    volatile boolean running = true;
    /** Receive time (epoch ns) of the oldest record this lane has yet to forward, 0 when none (metrics). */
    final AtomicLong oldestPendingReceivedAt = new AtomicLong();
    private final Object capacityFreed = new Object();

    Lane(String name, LaneContext context, Producer<byte[], byte[]> producer) {
        this.name = name;
        this.wal = context.wal();
        this.progress = context.progress();
        this.producer = producer;
        this.mapper = context.mapper();
        this.breaker = context.breaker();
        this.deadLetters = context.deadLetters();
        this.topicsChecked = context.topicsChecked();
        this.topicUnavailable = context.topicUnavailable();
        this.authenticationFailures = context.authenticationFailures();
        this.metrics = context.metrics();
        this.clock = context.clock();
        this.thread = new Thread(this, "forwarder-" + name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Bytes this lane may have in flight right now. */
    abstract long capacityBytes();

    /** WAL records this lane has yet to forward (an upper bound). */
    abstract long lagRecords();

    /** Payload bytes behind this lane: the backlog's last pass found them unforwarded; live: in flight. */
    abstract long lagBytes();

    /**
     * Waits until the topics are set up and the breaker and the lane's capacity allow one more record; false if the
     * lane is stopping.
     */
    boolean awaitPermission(int bytes) throws InterruptedException {
        long breakerPause = 50;
        while (running) {
            if (!topicsChecked.getAsBoolean()) {
                TimeUnit.MILLISECONDS.sleep(20);
                continue;
            }
            if (inflightBytes.get() + bytes > capacityBytes() && inflightBytes.get() > 0) {
                // window full: acks free it within milliseconds, so wait briefly rather than back off
                synchronized (capacityFreed) {
                    capacityFreed.wait(2);
                }
                continue;
            }
            if (breaker.tryAcquirePermission()) {
                return true;
            }
            // breaker open: Kafka is down; wait rather than spin, up to 200 ms between probes
            TimeUnit.MILLISECONDS.sleep(breakerPause);
            breakerPause = Math.min(breakerPause * 2, 200);
        }
        return false;
    }

    /** Sends every event of the record; the record is confirmed when the last event is held by Kafka. */
    void send(WalRecord record) {
        long index = record.index();
        List<ProducerRecord<byte[], byte[]>> records;
        try {
            records = mapper.toRecords(record);
        } catch (java.io.IOException e) {
            // validated at intake and checksummed in the WAL, so this is damage: report and move on
            log.error("WAL record {} has an unreadable batch; not forwarded: {}", Long.toHexString(index), e.toString());
            breaker.releasePermission();
            progress.skip(index);
            metrics.unreadable.increment();
            return;
        }
        int bytes = record.payload().length;
        if (index <= metrics.highestSentBeforeStart) {
            // sent by the previous run, never confirmed: Kafka may already have it (at-least-once)
            metrics.resentAfterRestart.increment(records.size());
        }
        progress.begin(index, bytes);
        inflightBytes.addAndGet(bytes);
        AtomicInteger remaining = new AtomicInteger(records.size());
        AtomicBoolean failed = new AtomicBoolean();
        long start = System.nanoTime();
        long receivedAt = record.header().receivedAtEpochNanos();
        Runnable eventDone = () -> {
            if (remaining.decrementAndGet() == 0) {
                finish(index, bytes, records.size(), failed.get(), start, receivedAt);
            }
        };
        // event ids are read from the headers only when something was ever dead-lettered, not for every event
        boolean anyDeadLetters = !deadLetters.isEmpty();
        for (ProducerRecord<byte[], byte[]> r : records) {
            if (anyDeadLetters && deadLetters.contains(EventRecords.eventId(r.headers()))) {
                eventDone.run(); // dead-lettered by an earlier send of this batch: never twice
                continue;
            }
            try {
                producer.send(r, (md, error) -> {
                    if (error == null) {
                        eventDone.run();
                    } else {
                        failed(r, index, error, failed, eventDone);
                    }
                });
            } catch (RuntimeException e) {
                // send() itself refused (producer closed, a serializer threw ...)
                failed(r, index, e, failed, eventDone);
            }
        }
    }

    /** One event failed: dead-letter it if Kafka will never take it, else leave the record to be sent again. */
    private void failed(ProducerRecord<byte[], byte[]> r, long index, Throwable error, AtomicBoolean failed,
                        Runnable eventDone) {
        SendErrors.Permanent permanent = SendErrors.permanent(error, topicUnavailable.getAsBoolean());
        if (permanent == null) {
            if (failed.compareAndSet(false, true) && !authenticationFailures.report(error)) {
                log.warn("{} lane: send of WAL record {} failed, will send again: {}", name, Long.toHexString(index),
                        error.toString());
            }
            eventDone.run();
            return;
        }
        String eventId = EventRecords.eventId(r.headers());
        deadLetters.send(r, eventId, index, permanent.tag, error).whenComplete((v, t) -> {
            if (t != null) {
                // not in the file, so not held anywhere: the record stays unconfirmed and is sent again
                failed.set(true);
                log.error("{} lane: could not dead-letter event {}: {}", name, eventId, t.toString());
            }
            eventDone.run();
        });
    }

    private void finish(long index, int bytes, int events, boolean failed, long startNanos, long receivedAtNanos) {
        long took = System.nanoTime() - startNanos;
        if (failed) {
            sendFailed.set(true); // before the record leaves the in-flight set: watermarks must not pass it
        }
        progress.finish(index, !failed);
        inflightBytes.addAndGet(-bytes);
        synchronized (capacityFreed) {
            capacityFreed.notifyAll();
        }
        if (failed) {
            breaker.onError(took, TimeUnit.NANOSECONDS, new RuntimeException("send failed"));
            metrics.sendErrors.increment();
        } else {
            breaker.onSuccess(took, TimeUnit.NANOSECONDS);
            authenticationFailures.succeeded();
            metrics.confirmed(name, events, bytes, nowEpochNanos() - receivedAtNanos);
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Seconds since the oldest record this lane has yet to forward was received; grows while Kafka is down. */
    double oldestPendingAgeSeconds() {
        long at = oldestPendingReceivedAt.get();
        return at == 0 ? 0 : Math.max(0, nowEpochNanos() - at) / 1e9;
    }

    /** Now, in the unit of receive times: epoch nanoseconds (to the millisecond of the wall clock). */
    private long nowEpochNanos() {
        return clock.millis() * 1_000_000L;
    }

    static long receivedAt(WalReader.Entry e) {
        return e instanceof WalReader.Valid v ? v.record().header().receivedAtEpochNanos() : 0;
    }

    /** Milliseconds since a receive time (epoch ns); 0 for 0, which stands for "unknown" (a corrupt record). */
    long ageMillis(long receivedAtNanos) {
        return receivedAtNanos == 0 ? 0
                : Math.max(0, clock.millis() - receivedAtNanos / 1_000_000L);
    }
}
