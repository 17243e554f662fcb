package dev.holdfast.wal;

import java.util.Objects;

/** What the WAL records about a batch besides its bytes. */
public record BatchHeader(String agentId, long batchSeq, int eventCount, BatchPriority priority,
                          long receivedAtEpochNanos) {
    public BatchHeader {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(priority, "priority");
    }
}
