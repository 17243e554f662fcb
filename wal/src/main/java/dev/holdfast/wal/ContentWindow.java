package dev.holdfast.wal;

/**
 * The content checksums of one agent's most recently written seqs, so a resend can be told apart from a different
 * batch reusing the seq. Direct-mapped: seq {@code s} lives in slot {@code s mod SIZE}, and a later seq in the same
 * slot replaces it. For an agent writing in order that is exactly its last {@value #SIZE} seqs, in 12 KiB.
 *
 * <p>0 marks an empty slot (it is never a seq). Not thread-safe.
 */
final class ContentWindow {
    static final int SIZE = 1024;
    private static final int MASK = SIZE - 1;

    /** What the window knows about a seq's content. */
    enum Match { SAME, OTHER, UNKNOWN }

    private final long[] seqs = new long[SIZE];
    private final int[] crcs = new int[SIZE];

    void put(long seq, int contentCrc) {
        int slot = (int) seq & MASK;
        seqs[slot] = seq;
        crcs[slot] = contentCrc;
    }

    Match compare(long seq, int contentCrc) {
        int slot = (int) seq & MASK;
        if (seq == 0 || seqs[slot] != seq) {
            return Match.UNKNOWN;
        }
        return crcs[slot] == contentCrc ? Match.SAME : Match.OTHER;
    }

    /**
     * A seq whose content has this checksum: {@code preferred} if it is one, else any (0 when none). For a damaged
     * record whose header no longer says whose it was.
     */
    long seqWithContent(int contentCrc, long preferred) {
        if (compare(preferred, contentCrc) == Match.SAME) {
            return preferred;
        }
        for (int i = 0; i < SIZE; i++) {
            if (seqs[i] != 0 && crcs[i] == contentCrc) {
                return seqs[i];
            }
        }
        return 0;
    }

    /** Occupied slots, for checkpoints. */
    int size() {
        int n = 0;
        for (long s : seqs) {
            if (s != 0) {
                n++;
            }
        }
        return n;
    }

    /** The seq in a slot (0 = empty) and its checksum, for checkpoints. */
    long seqAt(int slot) {
        return seqs[slot];
    }

    int crcAt(int slot) {
        return crcs[slot];
    }
}
