package dev.holdfast.forwarder;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The single owner of forwarding state that both lanes share: which WAL records Kafka confirmed, which are in
 * flight, where the live lane's territory begins, and who waits for a confirmation (the intake at
 * {@code replicated} durability).
 *
 * <p>The one ordering rule every reader relies on lives in {@link #finish}: a record is confirmed <em>before</em> it
 * leaves the in-flight set, and {@link #claimed} reads in-flight first, so a lane that checks both sees a record in
 * one of the two and never sends it a second time; a failed record bumps {@link #backlogVersion()} before it leaves,
 * so a backlog pass that found nothing to do stays right until the version changes.
 */
final class Progress {
    private final ConfirmedRanges confirmed = new ConfirmedRanges();
    /** WAL index -> payload bytes, for records sent and not yet confirmed or failed. */
    private final Map<Long, Integer> inflight = new ConcurrentHashMap<>();
    /** Records with an index above this belong to the live lane; at or below, to the backlog lane. */
    private final AtomicLong liveAnchor = new AtomicLong(-1);
    /** Highest index ever handed to a producer (persisted: after a restart, resends up to it are counted). */
    private final AtomicLong highestSent = new AtomicLong(-1);
    /** Bumped whenever records at or below the anchor may have become unconfirmed and not in flight. */
    private final AtomicLong backlogVersion = new AtomicLong();
    /** Lowest index not yet confirmed, as last established; everything below it is confirmed. */
    private final AtomicLong confirmedBelow = new AtomicLong(0);

    private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiters = new ConcurrentSkipListMap<>();
    private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> watermarkWaiters = new ConcurrentSkipListMap<>();

    /** What a previous run saved; {@code forget} are index ranges a WAL repair renumbered (sent again, not lost). */
    void restore(ProgressStore.Saved saved, List<long[]> forget) {
        saved.confirmed().forEach(r -> confirmed.addRange(r[0], r[1]));
        forget.forEach(r -> confirmed.removeRange(r[0], r[1]));
        highestSent.set(saved.highestSent());
    }

    // ---- one record's way through a lane

    /** The record is handed to a producer. */
    void begin(long index, int bytes) {
        highestSent.accumulateAndGet(index, Math::max);
        inflight.put(index, bytes);
    }

    /**
     * Kafka answered for every event of the record: {@code delivered} when all are held (in the topic or
     * dead-lettered), otherwise the record is left for the backlog lane to send again.
     */
    void finish(long index, boolean delivered) {
        if (delivered) {
            confirm(index);
        } else {
            backlogVersion.incrementAndGet();
        }
        inflight.remove(index);
    }

    /** A record that needs no send (damaged, unreadable): counted as done so nothing waits on it. */
    void skip(long index) {
        confirm(index);
    }

    /** In flight or confirmed. In flight is read first (see the class comment). */
    boolean claimed(long index) {
        return inflight.containsKey(index) || confirmed.contains(index);
    }

    boolean inFlight(long index) {
        return inflight.containsKey(index);
    }

    /** Lowest index in flight, or {@code orElse} when nothing is. */
    long lowestInFlight(long orElse) {
        return inflight.keySet().stream().mapToLong(Long::longValue).min().orElse(orElse);
    }

    private void confirm(long index) {
        confirmed.add(index);
        CompletableFuture<Void> w = waiters.remove(index);
        if (w != null) {
            w.complete(null);
        }
    }

    // ---- confirmed ranges

    /** End of the confirmed range holding index, or -1. */
    long confirmedRangeEnd(long index) {
        return confirmed.rangeEnd(index);
    }

    boolean isConfirmed(long index) {
        return confirmed.contains(index);
    }

    boolean isConfirmed(long first, long last) {
        return confirmed.containsAll(first, last);
    }

    /** Segments below index were deleted: their ranges are no longer needed. */
    void forgetBelow(long index) {
        confirmed.removeBelow(index);
    }

    List<long[]> confirmedSnapshot() {
        return confirmed.snapshot();
    }

    int confirmedRanges() {
        return confirmed.size();
    }

    long highestSent() {
        return highestSent.get();
    }

    // ---- the lanes' border

    /** Moves the border to {@code anchor} (the live lane jumped to the WAL head); returns the previous border. */
    long moveAnchor(long anchor) {
        backlogVersion.incrementAndGet(); // the records the live lane skips are the backlog's now
        return liveAnchor.getAndSet(anchor);
    }

    long anchor() {
        return liveAnchor.get();
    }

    long backlogVersion() {
        return backlogVersion.get();
    }

    // ---- waiting for confirmation

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

    long confirmedBelow() {
        return confirmedBelow.get();
    }

    void advanceWatermark(long below) {
        confirmedBelow.accumulateAndGet(below, Math::max);
        var done = watermarkWaiters.headMap(confirmedBelow.get(), false);
        done.values().forEach(f -> f.complete(null));
        done.clear();
    }
}
