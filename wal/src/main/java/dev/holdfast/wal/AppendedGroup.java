package dev.holdfast.wal;

import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A group of batches the writer has appended and not yet answered: the answers to give, what a sync must cover for
 * them to be true, and the chunks that range lies in, held until then.
 *
 * <p>The chunks are held because Chronicle maps a segment in chunks and unmaps one when its last holder lets go: the
 * appender moves on at a chunk boundary, and a chunk must stay mapped until the sync of what the group wrote there.
 */
final class AppendedGroup {
    /** The part of one chunk the group wrote into: file positions {@code [from, to)}. */
    static final class Span {
        final BytesStore<?, ?> chunk;
        long from;
        long to;

        Span(BytesStore<?, ?> chunk, long from, long to) {
            this.chunk = chunk;
            this.from = from;
            this.to = to;
        }
    }

    final List<GroupCommitWriter.Request> requests;
    final AppendResult[] results;
    /** Completed once a sync covers this group and every group before it; exceptionally if that sync failed. */
    final CompletableFuture<Void> synced = new CompletableFuture<>();
    private final ReferenceOwner owner = ReferenceOwner.temporary("wal-appended-group");
    private final List<Span> spans = new ArrayList<>(2);
    int batches;
    long events;
    long bytes;
    /** How long the group's longest-waiting batch was queued before the writer took it. */
    long waitNanos;
    long appendNanos;
    /** When its last record was appended ({@link System#nanoTime}). */
    long appendedAtNanos;

    AppendedGroup(List<GroupCommitWriter.Request> requests) {
        this.requests = List.copyOf(requests);
        this.results = new AppendResult[requests.size()];
    }

    /**
     * Notes that the group wrote file positions {@code [from, to)} in {@code chunk}, holding the chunk the first
     * time. Writer thread; {@code chunk} must be the appender's current one, so that it is mapped while reserved.
     */
    void wrote(BytesStore<?, ?> chunk, long from, long to) {
        for (Span s : spans) {
            if (s.chunk == chunk) { // by identity: a BytesStore's equals compares contents, the whole chunk
                s.from = Math.min(s.from, from);
                s.to = Math.max(s.to, to);
                return;
            }
        }
        chunk.reserve(owner);
        spans.add(new Span(chunk, from, to));
    }

    List<Span> spans() {
        return spans;
    }

    /** Lets go of the chunks; once, after the sync (or instead of it). */
    void release() {
        for (Span s : spans) {
            s.chunk.release(owner);
        }
        spans.clear();
    }

    /** Answers every batch of the group. */
    void answer() {
        for (int i = 0; i < results.length; i++) {
            requests.get(i).result().complete(results[i]);
        }
    }

    /** Answers every batch with {@code refusal} instead: nothing of the group may be acknowledged. */
    void refuse(AppendResult refusal) {
        for (GroupCommitWriter.Request r : requests) {
            r.result().complete(refusal);
        }
    }
}
