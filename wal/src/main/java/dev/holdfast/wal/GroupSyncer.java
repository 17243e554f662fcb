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
 * <p>Commit siblings: a sync waits for batches already on their way, received and being validated
 * ({@link Wal#arriving()}) or queued for the writer and not yet appended, until they are appended, for up to
 * {@code maxDelay} after its first group was appended and while it holds less than {@code maxBytes}. Agents' batches
 * often come together (flush timers, acks sent together, a burst after a stall): without the wait, the first one's
 * sync leaves the others to wait for it and then for a sync of their own, where one sync covers them all once they
 * are appended, a fraction of a millisecond later. With nothing on its way it syncs at once: waiting would only add
 * to the acks, whether the intake is quiet or every client is waiting for its acks. Nor does a sync wait when its
 * first group was appended while the sync before it was in flight: that group has already waited for company for as
 * long as that sync took, and under full load, where batches are always on their way, every sync would otherwise
 * linger as well, and each ack wait for it.
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

    /**
     * @param onFailure told once, on the sync thread, when a sync fails
     * @param onTheirWay whether batches are on their way to a group that the writer has not yet handed on
     */
    GroupSyncer(CommitListener listener, LongSupplier retryAfterMs, Consumer<Throwable> onFailure,
                BooleanSupplier onTheirWay, long maxDelayNanos, long maxBytes,
                LongSupplier nanoClock) {
        this.listener = listener;
        this.retryAfterMs = retryAfterMs;
        this.onFailure = onFailure;
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
        long idleSince = nanoClock.getAsLong(); // when the last sync ended: groups appended before it came meanwhile
        try {
            while (running || !appended.isEmpty()) {
                AppendedGroup first = appended.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                round.add(first);
                appended.drainTo(round);
                if (first.appendedAtNanos - idleSince >= 0) {
                    awaitCompany(round, first.appendedAtNanos + maxDelayNanos);
                }
                sync(round);
                round.clear();
                idleSince = nanoClock.getAsLong();
            }
        } catch (Throwable t) {
            fail(t, round);
        }
    }

    /**
     * Adds the groups appended until nothing else is on its way, the deadline or the byte budget; then what the writer
     * handed on last.
     */
    private void awaitCompany(List<AppendedGroup> round, long deadline) throws InterruptedException {
        long bytes = 0;
        for (AppendedGroup g : round) {
            bytes += g.bytes;
        }
        while (bytes < maxBytes) {
            if (!onTheirWay.getAsBoolean()) {
                appended.drainTo(round); // what made it false may be the group just handed on
                return;
            }
            long wait = deadline - nanoClock.getAsLong();
            if (wait <= 0) {
                return;
            }
            // in slices: a batch dropped on its way (invalid, shed) ends the wait without a group to wake it
            AppendedGroup next = appended.poll(Math.min(wait, RECHECK_NANOS), TimeUnit.NANOSECONDS);
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
