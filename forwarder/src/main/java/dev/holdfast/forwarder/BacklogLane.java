package dev.holdfast.forwarder;

import dev.holdfast.wal.WalReader;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drains everything at or below the live lane's anchor that Kafka has not confirmed: what a restart or an outage
 * left behind. Each pass reads from the start of the WAL, jumping over confirmed ranges, so a failed send, a
 * re-anchored live lane or a crash is simply picked up by the next pass. It gets the capacity the live lane is not
 * using, and never less than {@code backlogMinShare} of it, so it always progresses.
 */
final class BacklogLane extends Lane {
    private static final Logger log = LoggerFactory.getLogger(BacklogLane.class);
    private final long total;
    private final long minimum;
    private final LiveLane live;
    /** Records and payload bytes the last pass found unforwarded (metrics). */
    final AtomicLong pendingRecords = new AtomicLong();
    final AtomicLong pendingBytes = new AtomicLong();
    /** {@link Progress#backlogVersion} at the start of the last pass that found nothing to send; -1 if none. */
    private long cleanVersion = -1;
    /** Index the current pass is at, -1 between passes (for the lag gauge). */
    private volatile long scanIndex = -1;

    BacklogLane(LaneContext context, Producer<byte[], byte[]> producer, long totalBytes, double minShare,
                LiveLane live) {
        super("backlog", context, producer);
        this.total = totalBytes;
        this.minimum = (long) (totalBytes * minShare);
        this.live = live;
    }

    @Override
    long capacityBytes() {
        return Math.max(minimum, total - live.inflightBytes.get());
    }

    /**
     * Records the backlog holds, up to the live lane's anchor: from the current pass's position while a pass runs,
     * else from the lowest unconfirmed record. It grows during an outage (the anchor moves on) and falls as the
     * drain proceeds. Records confirmed out of order inside that span are counted too: an upper bound.
     */
    @Override
    long lagRecords() {
        long from = scanIndex >= 0 ? scanIndex : progress.confirmedBelow();
        if (from <= 0) {
            return pendingRecords.get(); // no pass has established the watermark yet
        }
        long n = wal.countRecords(from, progress.anchor());
        return n < 0 ? pendingRecords.get() : n;
    }

    @Override
    long lagBytes() {
        return pendingBytes.get();
    }

    @Override
    public void run() {
        try {
            live.anchored.await();
            while (running) {
                if (!pass()) {
                    TimeUnit.MILLISECONDS.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("backlog lane stopped", e);
        }
    }

    /** One pass over the backlog. Returns true when it sent something (so the next pass starts at once). */
    private boolean pass() throws InterruptedException {
        sendFailed.set(false);
        long version = progress.backlogVersion();
        long anchor = progress.anchor();
        long firstUnconfirmed = Long.MAX_VALUE;
        long pending = 0;
        long bytesFound = 0;
        boolean sent = false;
        if (version == cleanVersion) {
            // the last pass found everything up to the anchor confirmed, and nothing has changed that since: reading
            // again would only keep old, fully forwarded segments mapped (and so undeletable by retention)
            pendingRecords.set(0);
            pendingBytes.set(0);
            oldestPendingReceivedAt.set(0);
            advanceWatermarkPastLive(anchor);
            return false;
        }
        try (WalReader reader = wal.newReader()) {
            WalReader.Entry e;
            while (running && !sendFailed.get() && (e = reader.next()) != null && e.index() <= anchor) {
                long index = e.index();
                scanIndex = index;
                // in flight is read before confirmed: a lane confirms a record before it leaves the in-flight set,
                // so a record the live lane is finishing right now is seen in one of the two, never in neither
                boolean inFlight = progress.inFlight(index);
                long rangeEnd = progress.confirmedRangeEnd(index);
                if (rangeEnd >= 0) {
                    reader.seekAfter(Math.min(rangeEnd, anchor));
                    continue;
                }
                firstUnconfirmed = Math.min(firstUnconfirmed, index);
                if (inFlight) {
                    continue;
                }
                if (e instanceof WalReader.Corrupt) {
                    metrics.corruptSkipped.increment();
                    progress.skip(index);
                    continue;
                }
                WalReader.Valid v = (WalReader.Valid) e;
                pending++;
                bytesFound += v.record().payload().length;
                if (pending == 1) {
                    oldestPendingReceivedAt.set(receivedAt(e));
                }
                if (!awaitPermission(v.record().payload().length)) {
                    break;
                }
                send(v.record());
                sent = true;
            }
        }
        scanIndex = -1;
        pendingRecords.set(pending);
        pendingBytes.set(bytesFound);
        if (!sent) {
            oldestPendingReceivedAt.set(0);
        }
        if (firstUnconfirmed == Long.MAX_VALUE && !sendFailed.get()) {
            cleanVersion = version;
            advanceWatermarkPastLive(anchor);
        } else if (firstUnconfirmed != Long.MAX_VALUE) {
            progress.advanceWatermark(firstUnconfirmed);
        }
        return sent;
    }

    /**
     * Nothing at or below the anchor is unconfirmed or in flight, so the watermark may follow the live lane: up to
     * its lowest record in flight, or its read position. Not while the anchor moved or a live send failed: the
     * failed record then lies between the old anchor and the live position, unconfirmed and not in flight.
     */
    private void advanceWatermarkPastLive(long anchor) {
        if (progress.anchor() != anchor || live.sendFailed.get()) {
            return;
        }
        long next = live.nextIndex();
        long liveLowest = progress.lowestInFlight(next);
        progress.advanceWatermark(Math.min(liveLowest, next));
    }
}
