package dev.holdfast.wal;

/**
 * One accepted batch as stored: its position in the queue, its header and the batch bytes exactly as received.
 *
 * @param index   Chronicle Queue index (cycle and sequence), the record's stable position
 * @param segment file name of the segment holding it
 */
public record WalRecord(long index, String segment, BatchHeader header, int checksum, byte[] payload) {
}
