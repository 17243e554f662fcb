package dev.holdfast.wal;

/** A stored record failed validation; the message says precisely why. */
public final class CorruptRecordException extends Exception {
    public CorruptRecordException(String reason) {
        super(reason);
    }
}
