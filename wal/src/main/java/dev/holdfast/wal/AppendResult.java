package dev.holdfast.wal;

/** How the WAL disposed of one batch. The future carrying it completes only once the outcome is durable. */
public record AppendResult(Status status, long index, long retryAfterMs, String message) {
    public enum Status {
        /** Appended (and synced, at fsync durability). */
        PERSISTED,
        /** Already in the WAL; not written again. Reported after the write that holds it is durable. */
        DUPLICATE,
        /** Not written: disk pressure or shutdown. The sender should retry after {@code retryAfterMs}. */
        REJECTED
    }

    static AppendResult persisted(long index) {
        return new AppendResult(Status.PERSISTED, index, 0, "");
    }

    static AppendResult duplicate() {
        return new AppendResult(Status.DUPLICATE, -1, 0, "batch already persisted");
    }

    static AppendResult rejected(long retryAfterMs, String why) {
        return new AppendResult(Status.REJECTED, -1, retryAfterMs, why);
    }
}
