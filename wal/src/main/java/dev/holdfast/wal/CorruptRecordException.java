package dev.holdfast.wal;

/**
 * A stored record failed validation; the message says precisely why. The record's bytes are attached when they
 * were read, so that the batch it held (as far as its damaged header still tells) stops being answered DUPLICATE:
 * see {@link AgentSequences#forgetDamaged}.
 */
public final class CorruptRecordException extends Exception {
    private final byte[] record;

    public CorruptRecordException(String reason) {
        this(reason, null);
    }

    CorruptRecordException(String reason, byte[] record) {
        super(reason);
        this.record = record;
    }

    /** The damaged record's bytes (from the checksum on), or null. */
    byte[] record() {
        return record;
    }
}
