package dev.holdfast.wal;

import java.util.Objects;

/**
 * What the WAL records about a batch besides its bytes.
 *
 * @param batchSeq the agent's batch seq for {@link RecordKind#EVENTS}; 0 for the unsequenced kinds
 */
public record BatchHeader(String agentId, long batchSeq, int eventCount, BatchPriority priority,
                          long receivedAtEpochNanos, RecordKind kind) {
    public BatchHeader {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(priority, "priority");
        Objects.requireNonNull(kind, "kind");
    }

    /** A holdfast.v1 batch. */
    public BatchHeader(String agentId, long batchSeq, int eventCount, BatchPriority priority,
                       long receivedAtEpochNanos) {
        this(agentId, batchSeq, eventCount, priority, receivedAtEpochNanos, RecordKind.EVENTS);
    }
}
