package dev.holdfast.wal;

/** How the WAL disposed of one batch. The future carrying it completes only once the outcome is durable. */
public record AppendResult(Status status, long index, long retryAfterMs, String message) {
    public enum Status {
        /** Appended (and synced, at fsync durability). */
        PERSISTED,
        /** Already in the WAL; not written again. Reported after the write that holds it is durable. */
        DUPLICATE,
        /**
         * Not written: the WAL holds another batch under this (agent, seq), with other content. Resending cannot
         * help; the message says so.
         */
        CONFLICT,
        /**
         * Not written: the record is larger than the WAL can hold in one document ({@link WalConfig#maxRecordBytes}).
         * Resending cannot help.
         */
        TOO_LARGE,
        /** Not written: disk pressure or shutdown. The sender should retry after {@code retryAfterMs}. */
        REJECTED
    }

    static AppendResult persisted(long index) {
        return new AppendResult(Status.PERSISTED, index, 0, "");
    }

    /** @param contentCompared false when the seq is older than the checksum window, so the bytes were not compared */
    static AppendResult duplicate(boolean contentCompared) {
        return new AppendResult(Status.DUPLICATE, -1, 0, contentCompared ? "batch already persisted"
                : "batch already persisted (older than the checksum window: content not compared)");
    }

    static AppendResult conflict(BatchHeader header) {
        return new AppendResult(Status.CONFLICT, -1, 0, "batch_seq " + Long.toUnsignedString(header.batchSeq())
                + " was reused with other content: this intake already holds a different batch under agent \""
                + header.agentId() + "\" and this seq; not written (a seq must name one batch for ever)");
    }

    static AppendResult tooLarge(int encodedBytes, long maxRecordBytes) {
        return new AppendResult(Status.TOO_LARGE, -1, 0, "batch takes " + encodedBytes + " bytes in the WAL, more than "
                + "the " + maxRecordBytes + " one record may take (a quarter of wal.blockSize); not written");
    }

    static AppendResult rejected(long retryAfterMs, String why) {
        return new AppendResult(Status.REJECTED, -1, retryAfterMs, why);
    }
}
