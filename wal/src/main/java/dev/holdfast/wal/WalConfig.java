package dev.holdfast.wal;

import java.nio.file.Path;
import java.util.Objects;

/**
 * @param fsync               true: acknowledge only after the group's msync returns; false: once the record is
 *                            complete in the mapped file (survives a process kill, not a power loss)
 * @param groupCommitMaxDelayNanos how long a small group may wait for company before it is synced
 * @param groupCommitMaxBytes a group is synced once it holds this many bytes
 * @param rollCycle           Chronicle roll cycle name, e.g. FAST_HOURLY
 * @param snapshotIntervalMillis how often the per-agent sequence state is checkpointed, bounding restart scans
 * @param checkpointBytes     a checkpoint is also taken once this many record bytes were appended since the last:
 *                            what a restart re-reads is bounded in bytes whatever the write rate
 */
public record WalConfig(Path dir, boolean fsync, long groupCommitMaxDelayNanos, long groupCommitMaxBytes,
                        String rollCycle, long blockSize, DiskGuard.Limits limits, long snapshotIntervalMillis,
                        long checkpointBytes) {
    public WalConfig {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(rollCycle, "rollCycle");
        Objects.requireNonNull(limits, "limits");
        if (checkpointBytes <= 0) {
            throw new IllegalArgumentException("checkpointBytes must be > 0, was " + checkpointBytes);
        }
    }

    /** Checkpoints every {@code snapshotIntervalMillis} and every {@link #CHECKPOINT_BYTES} appended. */
    public WalConfig(Path dir, boolean fsync, long groupCommitMaxDelayNanos, long groupCommitMaxBytes,
                     String rollCycle, long blockSize, DiskGuard.Limits limits, long snapshotIntervalMillis) {
        this(dir, fsync, groupCommitMaxDelayNanos, groupCommitMaxBytes, rollCycle, blockSize, limits,
                snapshotIntervalMillis, CHECKPOINT_BYTES);
    }

    /** How often per-agent sequence state is checkpointed: bounds the records a restart must re-read. */
    public static final long CHECKPOINT_INTERVAL_MILLIS = 5_000;

    /**
     * Record bytes between checkpoints at most. A restart reads and checksums every record after the last checkpoint;
     * by time alone that was 5 s of writing, 1.3 GB at full rate and 2.7 s of a restart (issue 15); at 128 MiB it was
     * still 0.4-0.5 s of a 2 s restart. A checkpoint costs one file write and fsync on the checkpoint thread (its
     * encoding, in memory, on the writer's), about three times a second at full rate; with many agents (12 KiB each in
     * the checkpoint) the bound rises to 64 times the checkpoint's size, so checkpoints never cost more than 1/64 of
     * what is written. Walk marks go no further than the checkpoint either ({@link SegmentVerifier}).
     */
    public static final long CHECKPOINT_BYTES = 64L << 20;

    /**
     * The largest record (header and payload) this WAL can write: Chronicle Queue writes one document within a
     * quarter of a block, and a larger write fails the writer itself, so it is refused before it is queued.
     */
    public long maxRecordBytes() {
        return maxRecordBytes(blockSize);
    }

    public static long maxRecordBytes(long blockSize) {
        return blockSize / 4 - 1024;
    }

    /** Defaults suited to tests and small deployments. */
    public static WalConfig defaults(Path dir, boolean fsync) {
        return new WalConfig(dir, fsync, 2_000_000L, 8L << 20, "FAST_HOURLY", 64L << 20,
                new DiskGuard.Limits(10L << 30, 512L << 20, 0.80, 0.90, 1000), CHECKPOINT_INTERVAL_MILLIS);
    }

    public WalConfig withLimits(DiskGuard.Limits newLimits) {
        return new WalConfig(dir, fsync, groupCommitMaxDelayNanos, groupCommitMaxBytes, rollCycle, blockSize,
                newLimits, snapshotIntervalMillis, checkpointBytes);
    }
}
