package dev.holdfast.forwarder;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What both lanes share: which WAL records are confirmed by Kafka, which are in flight, where the live lane's
 * territory begins, and who waits for a confirmation (the intake at {@code replicated} durability).
 */
final class Progress {
    final ConfirmedRanges confirmed = new ConfirmedRanges();
    /** WAL index -> payload bytes, for records sent and not yet confirmed or failed. */
    final Map<Long, Integer> inflight = new ConcurrentHashMap<>();
    /** Records with an index above this belong to the live lane; at or below, to the backlog lane. */
    final AtomicLong liveAnchor = new AtomicLong(-1);
    /** Highest index ever handed to a producer (persisted: after a restart, resends up to it are counted). */
    final AtomicLong highestSent = new AtomicLong(-1);
    /**
     * Bumped whenever records at or below the anchor may have become unconfirmed and not in flight: the live lane
     * moved its anchor, or a send failed. Bumped before the failed record leaves the in-flight set, so a backlog
     * pass that found nothing to do stays right until this changes.
     */
    final AtomicLong backlogVersion = new AtomicLong();
    /** Lowest index not yet confirmed, as last established; everything below it is confirmed. */
    final AtomicLong confirmedBelow = new AtomicLong(0);

    private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiters = new ConcurrentSkipListMap<>();
    private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> watermarkWaiters = new ConcurrentSkipListMap<>();

    /** In flight or confirmed. In-flight is read first: lanes confirm a record before it leaves the in-flight set. */
    boolean claimed(long index) {
        return inflight.containsKey(index) || confirmed.contains(index);
    }

    void confirm(long index) {
        confirmed.add(index);
        CompletableFuture<Void> w = waiters.remove(index);
        if (w != null) {
            w.complete(null);
        }
    }

    /** Completes when the record at index is confirmed. */
    CompletableFuture<Void> whenConfirmed(long index) {
        CompletableFuture<Void> f = waiters.computeIfAbsent(index, k -> new CompletableFuture<>());
        if (confirmed.contains(index)) { // confirmed before we registered
            waiters.remove(index);
            f.complete(null);
        }
        return f;
    }

    /** Completes when every record at or below index is confirmed. */
    CompletableFuture<Void> whenConfirmedThrough(long index) {
        if (confirmedBelow.get() > index) {
            return CompletableFuture.completedFuture(null);
        }
        return watermarkWaiters.computeIfAbsent(index, k -> new CompletableFuture<>());
    }

    void advanceWatermark(long below) {
        confirmedBelow.accumulateAndGet(below, Math::max);
        var done = watermarkWaiters.headMap(confirmedBelow.get(), false);
        done.values().forEach(f -> f.complete(null));
        done.clear();
    }
}
