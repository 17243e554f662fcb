package dev.holdfast.wal;

/**
 * One segment (Chronicle cycle file) of the WAL.
 *
 * @param records    excerpts in the cycle, per Chronicle's index
 * @param usedBytes  bytes up to the segment's write position
 * @param fileBytes  the file's length (Chronicle files are sparse: this overstates the disk used)
 */
public record WalSegment(String file, int cycle, long firstIndex, long records, long usedBytes, long fileBytes,
                         long lastModifiedMillis) {
    /** Index of the last record, or firstIndex - 1 when the segment is empty. */
    public long lastIndex() {
        return firstIndex + records - 1;
    }
}
