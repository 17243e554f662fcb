package dev.holdfast.forwarder;

import dev.holdfast.wal.WalReader;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards new appends within milliseconds. It starts at the head of the WAL and stays there: when it falls further
 * behind than {@code liveMaxLag} (Kafka was down, or a send failed) it jumps to the head again and the records it
 * skipped become the backlog lane's, so fresh data is never queued behind stale data.
 */
final class LiveLane extends Lane {
    private static final Logger log = LoggerFactory.getLogger(LiveLane.class);
    private final long capacity;
    private final long maxLagMillis;
    private volatile long nextIndex;
    /** Opens once the lane has taken its first position; the backlog lane's territory is undefined before. */
    final java.util.concurrent.CountDownLatch anchored = new java.util.concurrent.CountDownLatch(1);

    LiveLane(LaneContext context, Producer<byte[], byte[]> producer, long capacityBytes, long maxLagMillis) {
        super("live", context, producer);
        this.capacity = capacityBytes;
        this.maxLagMillis = maxLagMillis;
    }

    @Override
    long capacityBytes() {
        return capacity;
    }

    @Override
    long lagRecords() {
        return Math.max(0, wal.countRecords(nextIndex, wal.lastIndex()));
    }

    @Override
    long lagBytes() {
        return inflightBytes.get();
    }

    /** Index the live lane will read next; everything between the anchor and this is confirmed or in flight. */
    long nextIndex() {
        return nextIndex;
    }

    @Override
    public void run() {
        try (WalReader reader = wal.newReader()) {
            anchor(reader);
            while (running) {
                if (sendFailed.getAndSet(false)) {
                    anchor(reader);
                }
                WalReader.Entry e = reader.next(50);
                nextIndex = reader.nextIndex();
                if (e == null) {
                    oldestPendingReceivedAt.set(0);
                    continue;
                }
                long receivedAt = receivedAt(e);
                oldestPendingReceivedAt.set(receivedAt);
                long age = ageMillis(receivedAt);
                if (age > maxLagMillis) {
                    metrics.reanchors.increment();
                    anchor(reader);
                    continue;
                }
                if (e instanceof WalReader.Corrupt c) {
                    metrics.corruptSkipped.increment();
                    progress.skip(c.index());
                    continue;
                }
                if (progress.claimed(e.index())) {
                    continue;
                }
                WalReader.Valid v = (WalReader.Valid) e;
                if (!awaitPermission(v.record().payload().length)) {
                    break;
                }
                send(v.record());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("live lane stopped", e);
        }
    }

    /** Moves to the head of the WAL; everything before it is the backlog's from now on. */
    private void anchor(WalReader reader) {
        reader.toEnd();
        long next = reader.nextIndex();
        long previous = progress.moveAnchor(next - 1);
        nextIndex = next;
        anchored.countDown();
        if (previous >= 0 && next - 1 > previous) {
            log.info("live lane moved to the WAL head ({}); records it skipped are left to the backlog lane",
                    Long.toHexString(next));
        }
    }
}
