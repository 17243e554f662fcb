package dev.holdfast.wal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Makes the writer's appended groups durable on a thread of its own ({@code wal-sync}), while the writer appends the
 * next ones; then answers their batches.
 *
 * <p>Why a second thread: at full load a group's msync took longer than its append (4–5 ms against 2.6–2.9 ms for ~17
 * batches), and on the writer's thread nothing was appended meanwhile. Now what arrives during a sync is appended at
 * once and the next sync covers all of it, as the followers of a database's group commit write while the leader's
 * flush is in flight.
 *
 * <p>What keeps the promise: groups are synced and answered in the order they were appended, so an answer is sent
 * only once a sync covers its group and every group before it. A DUPLICATE for a batch appended in an earlier group,
 * still unsynced, therefore waits for that group's sync; a checkpoint waits for the sync of what it covers
 * ({@link AppendedGroup#synced}).
 *
 * <p>Commit siblings: when batches arrived while the last sync was in flight, the next sync waits until its
 * oldest group has waited {@code maxDelay}, for more to share it. When nothing came during a whole sync, it syncs at
 * once, unless batches are already on their way: received and being validated ({@link Wal#arriving()}), or queued
 * for the writer and not yet appended. Then it waits for those only, and no longer than {@code maxDelay}. Agents'
 * batches often come together (flush timers, a burst after a stall); the first one's sync would otherwise leave the
 * others to wait for it and then sync again, two syncs for what one covers once they are appended, a fraction of a
 * millisecond later. Waiting would only add to a quiet intake's acks, so with nothing on its way there is no wait.
 *
 * <p>A failed msync fails the WAL for good (until restart, when recovery reads what the disk really holds): the
 * kernel reports a writeback error once and marks the pages clean, so no later sync could be trusted. Every batch of
 * the failed sync and after it is refused.
 */
final class GroupSyncer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupSyncer.class);

    private final BlockingQueue<AppendedGroup> appended = new LinkedBlockingQueue<>();
    private final CommitListener listener;
    private final LongSupplier retryAfterMs;
    private final Consumer<Throwable> onFailure;
    /** Batches submitted to the WAL so far: what arrived during a sync, wherever it is now. */
    private final LongSupplier arrivals;
    /** Whether batches are on their way to a group: being validated, or queued and not yet appended. */
    private final BooleanSupplier onTheirWay;
    private final long maxDelayNanos;
    private final long maxBytes;
    /** The writer's monotonic clock: linger deadlines and stages start from the times it stamped on the groups. */
    private final LongSupplier nanoClock;
    /** How often a wait for batches on their way looks again whether they still are. */
    private static final long RECHECK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private final Thread thread = new Thread(this::run, "wal-sync");
    private volatile boolean running = true;
    private volatile Throwable failure;
    /** Whether batches arrived while the last sync was in flight. Sync thread only. */
    private boolean lastSyncHadCompany;

    /**
     * @param onFailure told once, on the sync thread, when a sync fails
     * @param arrivals  the number of batches submitted to the WAL so far
     * @param onTheirWay whether batches are on their way to a group that the writer has not yet handed on
     */
    GroupSyncer(CommitListener listener, LongSupplier retryAfterMs, Consumer<Throwable> onFailure,
                LongSupplier arrivals, BooleanSupplier onTheirWay, long maxDelayNanos, long maxBytes,
                LongSupplier nanoClock) {
        this.listener = listener;
        this.retryAfterMs = retryAfterMs;
        this.onFailure = onFailure;
        this.arrivals = arrivals;
        this.onTheirWay = onTheirWay;
        this.maxDelayNanos = maxDelayNanos;
        this.maxBytes = maxBytes;
        this.nanoClock = nanoClock;
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues an appended group for the next sync. Writer thread. */
    void submit(AppendedGroup group) {
        Throwable f = failure;
        if (f != null) {
            refuse(group, f);
            return;
        }
        appended.add(group);
        if (failure != null) { // failed meanwhile: the sync thread may have drained already
            refuseQueued(failure);
        }
    }

    private void run() {
        List<AppendedGroup> round = new ArrayList<>();
        try {
            while (running || !appended.isEmpty()) {
                AppendedGroup first = appended.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                round.add(first);
                appended.drainTo(round);
                if (lastSyncHadCompany) {
                    awaitCompany(round, first.appendedAtNanos + maxDelayNanos, null);
                } else if (onTheirWay.getAsBoolean()) {
                    awaitCompany(round, first.appendedAtNanos + maxDelayNanos, onTheirWay);
                }
                long arrivedBefore = arrivals.getAsLong();
                sync(round);
                round.clear();
                lastSyncHadCompany = arrivals.getAsLong() != arrivedBefore;
            }
        } catch (Throwable t) {
            fail(t, round);
        }
    }

    /**
     * Adds the groups appended until the deadline or the byte budget, or until {@code more} (when not null) says nothing
     * else is coming; then what the writer handed on last.
     */
    private void awaitCompany(List<AppendedGroup> round, long deadline, BooleanSupplier more)
            throws InterruptedException {
        long bytes = 0;
        for (AppendedGroup g : round) {
            bytes += g.bytes;
        }
        while (bytes < maxBytes) {
            if (more != null && !more.getAsBoolean()) {
                appended.drainTo(round); // what made it false may be the group just handed on
                return;
            }
            long wait = deadline - nanoClock.getAsLong();
            if (wait <= 0) {
                return;
            }
            // in slices: a batch dropped on its way (invalid, shed) ends the wait without a group to wake it
            AppendedGroup next = appended.poll(more == null ? wait : Math.min(wait, RECHECK_NANOS),
                    TimeUnit.NANOSECONDS);
            if (next != null) {
                round.add(next);
                bytes += next.bytes;
            }
        }
    }

    private void sync(List<AppendedGroup> round) throws java.io.SyncFailedException {
        long started = nanoClock.getAsLong();
        // a chunk's spans from consecutive groups are contiguous: one msync from the first group's start to the last's end
        List<AppendedGroup.Span> merged = new ArrayList<>(2);
        for (AppendedGroup g : round) {
            for (AppendedGroup.Span s : g.spans()) {
                AppendedGroup.Span m = null;
                for (AppendedGroup.Span candidate : merged) {
                    if (candidate.chunk == s.chunk) {
                        m = candidate;
                    }
                }
                if (m == null) {
                    merged.add(new AppendedGroup.Span(s.chunk, s.from, s.to));
                } else {
                    m.from = Math.min(m.from, s.from);
                    m.to = Math.max(m.to, s.to);
                }
            }
        }
        for (AppendedGroup.Span m : merged) {
            SegmentSync.sync(m.chunk, m.from, m.to);
        }
        long synced = nanoClock.getAsLong();
        int batches = 0;
        long events = 0;
        long bytes = 0;
        long waited = 0;
        long appending = 0;
        for (AppendedGroup g : round) {
            batches += g.batches;
            events += g.events;
            bytes += g.bytes;
            waited = Math.max(waited, g.waitNanos);
            appending += g.appendNanos;
        }
        long syncWait = Math.max(0, started - round.get(0).appendedAtNanos);
        listener.committed(batches, events, bytes,
                new CommitListener.Stages(waited, appending, syncWait, merged.isEmpty() ? 0 : synced - started));
        for (AppendedGroup g : round) {
            g.answer();
            g.synced.complete(null);
        }
        for (AppendedGroup g : round) {
            g.release(); // after the answers: the last holder's release unmaps, and Chronicle syncs the chunk then
        }
    }

    private void fail(Throwable t, List<AppendedGroup> round) {
        failure = t;
        log.error("WAL sync failed; batches are refused until restart: {}", t.toString());
        try {
            onFailure.accept(t);
        } finally {
            for (AppendedGroup g : round) {
                refuse(g, t);
            }
            refuseQueued(t);
        }
    }

    private void refuseQueued(Throwable t) {
        AppendedGroup g;
        while ((g = appended.poll()) != null) {
            refuse(g, t);
        }
    }

    private void refuse(AppendedGroup group, Throwable t) {
        group.refuse(AppendResult.rejected(retryAfterMs.getAsLong(), "WAL sync failed: " + t.getMessage()));
        group.synced.completeExceptionally(t);
        group.release();
    }

    /** Syncs and answers every group already submitted, then stops. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        refuseQueued(failure != null ? failure : new IllegalStateException("WAL is shutting down"));
    }
}
