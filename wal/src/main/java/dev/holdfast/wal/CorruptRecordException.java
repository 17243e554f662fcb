package dev.holdfast.wal;

/**
 * A stored record failed validation; the message says precisely why. When the record's structure still parses, the
 * agent and seq it claims are attached: unverified (the checksum failed), but enough to stop answering that batch's
 * resend DUPLICATE — forgetting a seq can only cause a duplicate write, never a loss.
 */
public final class CorruptRecordException extends Exception {
    private final String claimedAgentId;
    private final long claimedSeq;

    public CorruptRecordException(String reason) {
        this(reason, null, 0);
    }

    CorruptRecordException(String reason, String claimedAgentId, long claimedSeq) {
        super(reason);
        this.claimedAgentId = claimedAgentId;
        this.claimedSeq = claimedSeq;
    }

    /** The agent id the damaged record's header names, or null when its structure is broken too. */
    public String claimedAgentId() {
        return claimedAgentId;
    }

    /** The seq the damaged record's header names (meaningful only with {@link #claimedAgentId()}). */
    public long claimedSeq() {
        return claimedSeq;
    }
}
