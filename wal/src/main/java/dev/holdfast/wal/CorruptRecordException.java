package dev.holdfast.wal;

/**
 * A stored record failed validation; the message says precisely why. The record's bytes are attached when they
 * were read, so that the batch it held (as far as its damaged header still tells) stops being answered DUPLICATE:
 * see {@link AgentSequences#forgetDamaged}.
 */
public final class CorruptRecordException extends Exception {
    private final byte[] record;
    private final boolean framingDamaged;

    public CorruptRecordException(String reason) {
        this(reason, null, false);
    }

    CorruptRecordException(String reason, byte[] record) {
        this(reason, record, false);
    }

    private CorruptRecordException(String reason, byte[] record, boolean framingDamaged) {
        super(reason);
        this.record = record;
        this.framingDamaged = framingDamaged;
    }

    /** The document's bounds themselves cannot be trusted: a reader following them may land anywhere. */
    static CorruptRecordException framing(String reason) {
        return new CorruptRecordException(reason, null, true);
    }

    boolean framingDamaged() {
        return framingDamaged;
    }

    /** The damaged record's bytes (from the checksum on), or null. */
    byte[] record() {
        return record;
    }
}
