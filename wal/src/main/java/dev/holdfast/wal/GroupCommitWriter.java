package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The only thread that writes the WAL. Callers hand it batches; it takes the batches waiting (in turn between agents,
 * see {@link RoundRobinQueue}; up to a byte budget) as a group and appends them. At written durability it answers
 * them at once; at fsync it hands the group to the {@link GroupSyncer}, which answers after a sync covers it, and
 * goes on appending what arrives meanwhile. Many concurrent batches therefore share one sync, appending never waits
 * for the disk, and no caller thread ever touches it.
 *
 * <p>A group's sync covers every chunk it wrote into. Chronicle maps a segment in chunks, and the appender's sync()
 * covers only the chunk it is writing in now: when a group runs from one chunk into the next, what it left in the
 * earlier chunk would be synced only once the last holder of that chunk (the page toucher, a reader) let go of it,
 * possibly after the acknowledgement. So each group holds the chunks it wrote into until its sync
 * ({@link AppendedGroup}, {@code ChunkBoundarySyncTest}).
 */
final class GroupCommitWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** @param contentCrc {@link RecordCodec#contentChecksum} of the payload, computed by the caller's thread */
    record Request(BatchHeader header, byte[] payload, int contentCrc, int encodedSize,
                   CompletableFuture<AppendResult> result, long submittedNanos) {
    }

    private final SingleChronicleQueue queue;
    private final WalConfig config;
    private final AgentSequences sequences;
    private final DiskGuard guard;
    private final CommitListener listener;
    private final SequenceSnapshots snapshots;
    private final Checkpointer checkpointer;
    /** Monotonic nanoseconds (see {@link Wal}): the checkpoint interval, and the stages each commit reports. */
    private final LongSupplier nanoClock;
    /** Round robin between agents: one agent's flood does not queue another agent's batch behind it. */
    private final RoundRobinQueue<Request> pending = new RoundRobinQueue<>(r -> r.header().agentId());
    private final PageToucher toucher;
    /** Null at written durability. */
    private final GroupSyncer syncer;
    /** The last group's sync: what a checkpoint taken now must wait for. Writer thread only. */
    private CompletableFuture<Void> lastSynced = CompletableFuture.completedFuture(null);
    /** Batches queued for the writer so far. */
    private final AtomicLong submitted = new AtomicLong();
    /** Batches taken off the queue and appended (or answered) in a group handed on so far. */
    private final AtomicLong taken = new AtomicLong();
    /** Batches a caller announced ({@link Wal#arriving()}) and has neither queued nor dropped yet. */
    private final AtomicInteger arriving = new AtomicInteger();
    private final Thread thread;
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile long lastIndexAppended = -1;
    /** Record bytes appended since the last checkpoint. Writer thread only. */
    private long bytesSinceCheckpoint;
    /**
     * Record bytes that call for a checkpoint: {@code checkpointBytes}, or 64 times the last checkpoint's own size if
     * that is more. The checkpoint grows with the number of agents (12 KiB each); thousands of them would otherwise
     * make every checkpoint megabytes written and synced on this thread once a second. Writer thread only.
     */
    private long checkpointAfterBytes;

    GroupCommitWriter(SingleChronicleQueue queue, WalConfig config, AgentSequences sequences, DiskGuard guard,
                      CommitListener listener, SequenceSnapshots snapshots, PageCacheTrim.LibC libc,
                      LongSupplier nanoClock) {
        this.toucher = new PageToucher(libc, nanoClock);
        this.queue = queue;
        this.config = config;
        this.sequences = sequences;
        this.guard = guard;
        this.listener = listener;
        this.snapshots = snapshots;
        this.nanoClock = nanoClock;
        this.checkpointer = new Checkpointer(snapshots, listener, nanoClock);
        this.lastIndexAppended = queue.lastIndex(); // so a checkpoint at close covers what recovery read
        this.checkpointAfterBytes = config.checkpointBytes();
        if (config.fsync()) {
            SegmentSync.requireWorkingMsync();
            this.syncer = new GroupSyncer(listener, guard::retryAfterMs, t -> failure = t,
                    () -> arriving.get() > 0 || submitted.get() > taken.get(), config.groupCommitMaxDelayNanos(),
                    config.groupCommitMaxBytes(), nanoClock);
        } else {
            this.syncer = null;
        }
        this.thread = new Thread(this::run, "wal-writer");
        this.thread.setDaemon(true);
    }

    void start() {
        toucher.start();
        if (syncer != null) {
            syncer.start();
        }
        thread.start();
    }

    CompletableFuture<AppendResult> submit(BatchHeader header, byte[] payload) {
        CompletableFuture<AppendResult> result = new CompletableFuture<>();
        if (!accepting) {
            result.complete(AppendResult.rejected(guard.retryAfterMs(), "WAL is shutting down"));
            return result;
        }
        Throwable f = failure;
        if (f != null) {
            result.complete(AppendResult.rejected(guard.retryAfterMs(), "WAL writer failed: " + f));
            return result;
        }
        int encoded = RecordCodec.encodedSize(header, payload.length);
        if (encoded > config.maxRecordBytes()) {
            // it would fail the writer for every batch behind it: one bad input must not stop the WAL
            result.complete(AppendResult.tooLarge(encoded, config.maxRecordBytes()));
            return result;
        }
        pending.add(new Request(header, payload, RecordCodec.contentChecksum(payload), encoded, result,
                nanoClock.getAsLong()));
        submitted.incrementAndGet();
        return result;
    }

    /** A batch on its way to {@link #submit}: counted until {@link #arrived()}. */
    void arriving() {
        arriving.incrementAndGet();
    }

    /** The batch announced by {@link #arriving()} was submitted, or will never be. */
    void arrived() {
        arriving.decrementAndGet();
    }

    boolean healthy() {
        return failure == null && thread.isAlive();
    }

    /** Why the writer stopped (a failed sync, an append that threw), or null while it runs. */
    String failure() {
        Throwable f = failure;
        return f != null ? f.toString() : thread.isAlive() || !accepting ? null : "the writer thread ended";
    }

    /** Index of the last record appended (-1 before the first): readers compare their position with it. */
    long lastIndexAppended() {
        return lastIndexAppended;
    }

    int queued() {
        return pending.size();
    }

    /** Pages faulted in ahead of the writer's appends (see {@link PageToucher}). */
    long pagesTouched() {
        return toucher.touched();
    }

    private void run() {
        ExcerptAppender appender = queue.createAppender();
        List<Request> group = new ArrayList<>();
        // an interval, so on the monotonic clock: a step of the wall clock neither holds nor hurries a checkpoint
        long snapshotIntervalNanos = TimeUnit.MILLISECONDS.toNanos(config.snapshotIntervalMillis());
        long nextSnapshot = nanoClock.getAsLong() + snapshotIntervalNanos;
        try {
            while ((running || !pending.isEmpty()) && failure == null) {
                Request first = pending.poll(50, TimeUnit.MILLISECONDS);
                if (first != null) {
                    group.add(first);
                    collect(group, first.encodedSize());
                    commit(appender, group);
                    taken.addAndGet(group.size()); // after the group is handed on: the syncer reads this, then drains
                    toucher.follow(appender); // the pages the next groups will fill, faulted in meanwhile
                    group.clear();
                }
                if ((nanoClock.getAsLong() - nextSnapshot >= 0 || bytesSinceCheckpoint >= checkpointAfterBytes)
                        && checkpointer.idle()) {
                    // the snapshot here, so it covers exactly what was appended; written once that is synced
                    byte[] body = snapshots.encode(sequences, lastIndexAppended);
                    if (body != null) {
                        checkpointer.write(body, lastSynced);
                        checkpointAfterBytes = Math.max(config.checkpointBytes(), 64 * (body.length + 4L));
                    }
                    nextSnapshot = nanoClock.getAsLong() + snapshotIntervalNanos;
                    bytesSinceCheckpoint = 0;
                }
            }
            if (syncer != null) {
                syncer.close(); // every group appended is synced and answered before the last checkpoint
            }
            Throwable failed = failure;
            if (failed != null) {
                refusePending(failed);
            } else if (checkpointer.awaitIdle(30)) {
                // the last checkpoint, after the one being written (a later rename must not be overtaken by it)
                snapshots.save(sequences, lastIndexAppended);
            } else {
                log.warn("a checkpoint has taken more than 30 s; not writing the last one (the next start scans more)");
            }
        } catch (Throwable t) {
            failure = t;
            log.error("WAL writer stopped; batches are refused until restart", t);
            for (Request r : group) {
                r.result().complete(AppendResult.rejected(guard.retryAfterMs(), "WAL writer failed: " + t));
            }
            refusePending(t);
        } finally {
            if (syncer != null) {
                syncer.close(); // before the appender: groups hold the chunks they wrote into until synced
            }
            toucher.close(); // before the appender: it lets go of the chunk it was touching
            checkpointer.close();
            appender.close();
        }
    }

    private void refusePending(Throwable t) {
        Request r;
        while ((r = pending.poll()) != null) {
            r.result().complete(AppendResult.rejected(guard.retryAfterMs(), "WAL writer failed: " + t));
        }
    }

    /** Adds whatever is already waiting, up to the group's byte budget. */
    private void collect(List<Request> group, long bytes) {
        while (bytes < config.groupCommitMaxBytes()) {
            Request next = pending.poll();
            if (next == null) {
                return;
            }
            group.add(next);
            bytes += next.encodedSize();
        }
    }

    private void commit(ExcerptAppender appender, List<Request> requests) {
        long started = nanoClock.getAsLong();
        AppendedGroup group = new AppendedGroup(requests);
        for (Request r : requests) {
            group.waitNanos = Math.max(group.waitNanos, started - r.submittedNanos());
        }
        guard.refresh();
        try {
            append(appender, group);
        } catch (RuntimeException | Error e) {
            group.release(); // the writer's catch refuses its batches
            throw e;
        }
        group.appendedAtNanos = nanoClock.getAsLong();
        group.appendNanos = group.appendedAtNanos - started;
        bytesSinceCheckpoint += group.bytes;
        if (syncer != null) {
            lastSynced = group.synced;
            syncer.submit(group);
        } else {
            listener.committed(group.batches, group.events, group.bytes,
                    new CommitListener.Stages(group.waitNanos, group.appendNanos, 0, 0));
            group.answer();
        }
    }

    private void append(ExcerptAppender appender, AppendedGroup group) {
        boolean sync = syncer != null;
        List<Request> requests = group.requests;
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            BatchHeader h = r.header();
            // OTLP requests carry no seq: nothing to recognise a resend by, so every one is written
            AgentSequences.Held held = h.kind().sequenced()
                    ? sequences.held(h.agentId(), h.batchSeq(), r.contentCrc()) : AgentSequences.Held.NO;
            if (held != AgentSequences.Held.NO) {
                // answered with the group, after its sync: the batch held may be in an earlier group not yet synced
                group.results[i] = switch (held) {
                    case OTHER_CONTENT -> AppendResult.conflict(h);
                    case CONTENT_UNKNOWN -> AppendResult.duplicate(false);
                    default -> AppendResult.duplicate(true);
                };
                continue;
            }
            String refusal = guard.refusal(h.priority(), r.encodedSize());
            if (refusal != null) {
                group.results[i] = AppendResult.rejected(guard.retryAfterMs(), refusal);
                continue;
            }
            Wire before = appender.wire();
            BytesStore<?, ?> chunkBefore = before == null ? null : before.bytes().bytesStore();
            long from = before == null ? 0 : before.bytes().writePosition();
            try (DocumentContext dc = appender.writingDocument()) {
                RecordCodec.write(dc.wire().bytes(), h, r.payload());
            }
            Bytes<?> after = appender.wire().bytes();
            long to = after.writePosition();
            if (sync) {
                // from where the last record ended, so that what Chronicle wrote in between (index metadata) is
                // covered too; in a chunk or cycle file the record moved to, from the chunk's start
                BytesStore<?, ?> chunk = after.bytesStore();
                group.wrote(chunk, chunk == chunkBefore ? from : chunk.start(), to);
            }
            toucher.advanced(to);
            lastIndexAppended = appender.lastIndexAppended();
            if (h.kind().sequenced()) {
                sequences.add(h.agentId(), h.batchSeq(), r.contentCrc());
            }
            // 4 bytes of Chronicle document header plus alignment padding
            guard.onAppended(r.encodedSize() + 8L);
            group.results[i] = AppendResult.persisted(lastIndexAppended);
            group.batches++;
            group.events += h.eventCount();
            group.bytes += r.encodedSize();
        }
    }

    /** Stops accepting, writes and syncs everything already accepted, then returns. */
    @Override
    public void close() {
        accepting = false;
        running = false;
        pending.close(); // the writer need not finish its idle wait to see that it is done
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // a submit that raced with close() is answered, never left hanging
        Request r;
        while ((r = pending.poll()) != null) {
            r.result().complete(AppendResult.rejected(guard.retryAfterMs(), "WAL is shutting down"));
        }
    }
}
