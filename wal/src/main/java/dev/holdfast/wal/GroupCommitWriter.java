package dev.holdfast.wal;

import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
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

/**
 * The only thread that writes the WAL. Callers hand it batches; it takes the batches waiting (in turn between agents,
 * see {@link RoundRobinQueue}; up to a byte budget, lingering at most {@code maxDelay} for more when the group is
 * small and the last commit had company), appends them, makes the whole group durable with one msync, and only then
 * completes their futures. Many concurrent batches therefore share one sync, and no caller thread ever touches the
 * disk.
 *
 * <p>"One msync" is one per chunk the group wrote into. Chronicle maps a segment in chunks, and the appender's sync()
 * covers only the chunk it is writing in now; when a group runs from one chunk into the next, what it left in the
 * earlier chunk would be synced only once the last holder of that chunk (the page toucher, a reader) let go of it,
 * possibly after the acknowledgement. So the writer holds every chunk a group writes into and syncs each before any
 * future completes ({@code ChunkBoundarySyncTest}).
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
    /** Round robin between agents: one agent's flood does not queue another agent's batch behind it. */
    private final RoundRobinQueue<Request> pending = new RoundRobinQueue<>(r -> r.header().agentId());
    private final PageToucher toucher = new PageToucher();
    /** Holds the chunks of the group being written until it is synced; writer thread only. */
    private final ReferenceOwner groupOwner = ReferenceOwner.temporary("wal-group-commit");
    private final List<HeldChunk> groupChunks = new ArrayList<>();

    /** A chunk the group wrote into, and how far (a file position) its records in that chunk go. */
    private static final class HeldChunk {
        final BytesStore<?, ?> store;
        long end;

        HeldChunk(BytesStore<?, ?> store, long end) {
            this.store = store;
            this.end = end;
        }
    }
    private final Thread thread;
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile long lastIndexAppended = -1;
    /**
     * Whether batches arrived while the last group was being written and synced. Only then does a small group
     * linger for more (the commit-siblings rule of databases): when nothing came during a whole sync, nothing is
     * likely to come within {@code maxDelay} either, and lingering would add that delay to every ack of a quiet
     * intake. Under load, batches arrive during every sync and groups linger as before. Writer thread only.
     */
    private boolean lastCommitHadCompany;
    /** Record bytes appended since the last checkpoint. Writer thread only. */
    private long bytesSinceCheckpoint;
    /**
     * Record bytes that call for a checkpoint: {@code checkpointBytes}, or 64 times the last checkpoint's own size if
     * that is more. The checkpoint grows with the number of agents (12 KiB each); thousands of them would otherwise
     * make every checkpoint megabytes written and synced on this thread once a second. Writer thread only.
     */
    private long checkpointAfterBytes;

    GroupCommitWriter(SingleChronicleQueue queue, WalConfig config, AgentSequences sequences, DiskGuard guard,
                      CommitListener listener, SequenceSnapshots snapshots) {
        this.queue = queue;
        this.config = config;
        this.sequences = sequences;
        this.guard = guard;
        this.listener = listener;
        this.snapshots = snapshots;
        this.checkpointer = new Checkpointer(snapshots, listener);
        this.lastIndexAppended = queue.lastIndex(); // so a checkpoint at close covers what recovery read
        this.checkpointAfterBytes = config.checkpointBytes();
        this.thread = new Thread(this::run, "wal-writer");
        this.thread.setDaemon(true);
    }

    void start() {
        toucher.start();
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
                System.nanoTime()));
        return result;
    }

    boolean healthy() {
        return failure == null && thread.isAlive();
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
        long nextSnapshot = System.currentTimeMillis() + config.snapshotIntervalMillis();
        try {
            while (running || !pending.isEmpty()) {
                Request first = pending.poll(50, TimeUnit.MILLISECONDS);
                if (first != null) {
                    group.add(first);
                    collect(group, first.encodedSize());
                    commit(appender, group);
                    toucher.follow(appender); // the pages the next groups will fill, faulted in meanwhile
                    group.clear();
                    lastCommitHadCompany = !pending.isEmpty();
                }
                if ((System.currentTimeMillis() >= nextSnapshot || bytesSinceCheckpoint >= checkpointAfterBytes)
                        && checkpointer.idle()) {
                    // the snapshot here, so it covers exactly what was appended; its I/O on the checkpoint thread
                    byte[] body = snapshots.encode(sequences, lastIndexAppended);
                    if (body != null) {
                        checkpointer.write(body);
                        checkpointAfterBytes = Math.max(config.checkpointBytes(), 64 * (body.length + 4L));
                    }
                    nextSnapshot = System.currentTimeMillis() + config.snapshotIntervalMillis();
                    bytesSinceCheckpoint = 0;
                }
            }
            // the last checkpoint, after the one being written (a later rename must not be overtaken by it)
            if (checkpointer.awaitIdle(30)) {
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
            Request r;
            while ((r = pending.poll()) != null) {
                r.result().complete(AppendResult.rejected(guard.retryAfterMs(), "WAL writer failed: " + t));
            }
        } finally {
            toucher.close(); // before the appender: it lets go of the chunk it was touching
            checkpointer.close();
            appender.close();
        }
    }

    /**
     * Adds whatever is already waiting; a small group lingers up to maxDelay so that more batches share a sync, if
     * the last commit had company (see {@link #lastCommitHadCompany}).
     */
    private void collect(List<Request> group, long bytes) throws InterruptedException {
        long deadline = System.nanoTime() + config.groupCommitMaxDelayNanos();
        while (bytes < config.groupCommitMaxBytes()) {
            Request next = pending.poll();
            if (next == null) {
                long wait = deadline - System.nanoTime();
                if (!config.fsync() || !lastCommitHadCompany || wait <= 0) {
                    return;
                }
                next = pending.poll(wait, TimeUnit.NANOSECONDS);
                if (next == null) {
                    return;
                }
            }
            group.add(next);
            bytes += next.encodedSize();
        }
    }

    private void commit(ExcerptAppender appender, List<Request> group) {
        long started = System.nanoTime();
        long waited = 0;
        for (Request r : group) {
            waited = Math.max(waited, started - r.submittedNanos());
        }
        guard.refresh();
        try {
            appendAndSync(appender, group, started, waited);
        } finally {
            for (HeldChunk chunk : groupChunks) {
                chunk.store.release(groupOwner);
            }
            groupChunks.clear();
        }
    }

    private void appendAndSync(ExcerptAppender appender, List<Request> group, long started, long waited) {
        boolean sync = config.fsync();
        if (sync) {
            holdChunk(appender);
        }
        AppendResult[] results = new AppendResult[group.size()];
        int appended = 0;
        long events = 0;
        long bytes = 0;
        for (int i = 0; i < group.size(); i++) {
            Request r = group.get(i);
            BatchHeader h = r.header();
            // OTLP requests carry no seq: nothing to recognise a resend by, so every one is written
            AgentSequences.Held held = h.kind().sequenced()
                    ? sequences.held(h.agentId(), h.batchSeq(), r.contentCrc()) : AgentSequences.Held.NO;
            if (held != AgentSequences.Held.NO) {
                results[i] = switch (held) {
                    case OTHER_CONTENT -> AppendResult.conflict(h);
                    case CONTENT_UNKNOWN -> AppendResult.duplicate(false);
                    default -> AppendResult.duplicate(true);
                };
                continue;
            }
            String refusal = guard.refusal(h.priority(), r.encodedSize());
            if (refusal != null) {
                results[i] = AppendResult.rejected(guard.retryAfterMs(), refusal);
                continue;
            }
            try (DocumentContext dc = appender.writingDocument()) {
                RecordCodec.write(dc.wire().bytes(), h, r.payload());
            }
            if (sync) {
                holdChunk(appender); // before the next record can move the appender on and let go of it
            }
            toucher.advanced(appender.wire().bytes().writePosition());
            lastIndexAppended = appender.lastIndexAppended();
            if (h.kind().sequenced()) {
                sequences.add(h.agentId(), h.batchSeq(), r.contentCrc());
            }
            // 4 bytes of Chronicle document header plus alignment padding
            guard.onAppended(r.encodedSize() + 8L);
            results[i] = AppendResult.persisted(lastIndexAppended);
            appended++;
            events += h.eventCount();
            bytes += r.encodedSize();
        }
        long appendedAt = System.nanoTime();
        long syncNanos = 0;
        if (sync && appended > 0) {
            BytesStore<?, ?> current = appender.wire().bytes().bytesStore();
            for (HeldChunk chunk : groupChunks) {
                if (chunk.store != current && chunk.store instanceof MappedBytesStore left) {
                    left.syncUpTo(chunk.end); // from where its last sync ended to the group's last record in it
                }
            }
            appender.sync();
            syncNanos = System.nanoTime() - appendedAt;
        }
        bytesSinceCheckpoint += bytes;
        listener.committed(appended, events, bytes, new CommitListener.Stages(waited, appendedAt - started, syncNanos));
        for (int i = 0; i < results.length; i++) {
            group.get(i).result().complete(results[i]);
        }
    }

    /**
     * Holds the chunk the appender writes in now (once per group) and notes how far the group's records in it go.
     * Called before the first record and after each: a record that moves the appender to the next chunk is written
     * there whole, so the earlier chunk's records end where the one before it ended.
     */
    private void holdChunk(ExcerptAppender appender) {
        Wire wire = appender.wire();
        BytesStore<?, ?> chunk = wire == null ? null : wire.bytes().bytesStore();
        if (chunk == null) {
            return;
        }
        long end = wire.bytes().writePosition();
        for (HeldChunk held : groupChunks) {
            if (held.store == chunk) { // by identity: a BytesStore's equals compares its contents, the whole chunk
                held.end = end;
                return;
            }
        }
        chunk.reserve(groupOwner); // the appender holds it at this moment: it is mapped
        groupChunks.add(new HeldChunk(chunk, end));
    }

    /** Stops accepting, writes and syncs everything already accepted, then returns. */
    @Override
    public void close() {
        accepting = false;
        running = false;
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
