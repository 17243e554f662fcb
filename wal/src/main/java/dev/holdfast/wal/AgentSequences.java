package dev.holdfast.wal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which batches of each agent this WAL holds (or held and has since forwarded and retired), so a resent batch is
 * answered DUPLICATE instead of being written twice, a reused seq with other bytes is refused, and a reconnecting
 * agent learns where to resume.
 *
 * <p>Only what this WAL actually wrote counts as held: what an agent claims was acknowledged elsewhere
 * ({@code acknowledged_through}) shapes the answer to that agent's Hello ({@link #resume(String, long)}) and nothing
 * else. Seqs are unsigned 64-bit numbers carried in a {@code long} bit for bit; 0 is never a seq.
 *
 * <p>Per agent it keeps the held seqs as ranges ({@link HeldRanges}, at most {@value #MAX_RANGES_PER_AGENT}; beyond
 * that the lowest range is forgotten, so a resend of it is written again: a duplicate, never a loss) and the content
 * checksums of the last {@value ContentWindow#SIZE} seqs written ({@link ContentWindow}). A held seq outside that
 * window is answered DUPLICATE without its content being compared.
 *
 * <p>The WAL writer thread adds and looks up; gRPC threads read ({@link #contains}, {@link #resume}) concurrently.
 */
public final class AgentSequences {
    public static final int MAX_RANGES_PER_AGENT = 1024;
    /** Entries a resume point lists in {@code persisted_above} at most. */
    public static final int MAX_RESUME_ABOVE = 4096;

    private final Map<String, State> agents = new ConcurrentHashMap<>();

    /**
     * Resume point for one agent: every seq in (0, persistedThrough] is durable (here, or as the agent claimed,
     * elsewhere), and so is every seq in persistedAbove. The list is capped at {@link #MAX_RESUME_ABOVE}: when
     * capped, its last entry is the highest held seq, and an agent resending a held seq missing from it is answered
     * DUPLICATE.
     */
    public record Resume(long persistedThrough, List<Long> persistedAbove) {
    }

    /** Whether a batch is held, and if so whether the bytes now offered are the ones written. */
    public enum Held {
        /** Not held: write it. */
        NO,
        /** Held, and the checksum kept for it matches. */
        SAME_CONTENT,
        /** Held, and older than the checksum window: the content cannot be compared. */
        CONTENT_UNKNOWN,
        /** Held with other content: the seq was reused for a different batch. */
        OTHER_CONTENT
    }

    private static final class State {
        final HeldRanges held = new HeldRanges(MAX_RANGES_PER_AGENT);
        final ContentWindow contents = new ContentWindow();
    }

    public boolean contains(String agentId, long seq) {
        State s = agents.get(agentId);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return s.held.contains(seq);
        }
    }

    /** What the WAL holds under (agent, seq), compared with {@code contentCrc} ({@link RecordCodec#contentChecksum}). */
    public Held held(String agentId, long seq, int contentCrc) {
        State s = agents.get(agentId);
        if (s == null) {
            return Held.NO;
        }
        synchronized (s) {
            if (!s.held.contains(seq)) {
                return Held.NO;
            }
            return switch (s.contents.compare(seq, contentCrc)) {
                case SAME -> Held.SAME_CONTENT;
                case OTHER -> Held.OTHER_CONTENT;
                case UNKNOWN -> Held.CONTENT_UNKNOWN;
            };
        }
    }

    /**
     * Records a batch the WAL holds, with the checksum of its content ({@link RecordCodec#contentChecksum} of the
     * record's payload). Returns false when the seq was already held (its first checksum is kept) or is 0.
     */
    public boolean add(String agentId, long seq, int contentCrc) {
        if (seq == 0) {
            return false;
        }
        State s = agents.computeIfAbsent(agentId, k -> new State());
        synchronized (s) {
            if (!s.held.add(seq)) {
                return false;
            }
            s.contents.put(seq, contentCrc);
            return true;
        }
    }

    /**
     * A record was found damaged: stop answering its batch DUPLICATE, so a sender that still has it is heard again.
     * Its header failed the checksum too, so who sent it is inferred: the agent whose id its agent field holds (or
     * holds but for one byte, or holds at the right offset under a damaged length field). The seq is the one its seq
     * field holds, unless the payload is intact and the agent's content window knows it under a seq one bit away (a
     * flipped bit in the seq field): then that one. When the id matches no agent (more than a byte of it damaged),
     * the content decides ({@link #forgetUnattributed}). Forgetting a seq that was fine only lets a resend be written
     * twice; keeping one whose only copy is damaged would answer a resend DUPLICATE and lose it.
     */
    public void forgetDamaged(byte[] record) {
        if (record == null) {
            return;
        }
        long stored = RecordCodec.storedSeq(record);
        byte[] field = RecordCodec.storedAgent(record);
        byte[] payload = RecordCodec.storedPayload(record);
        int payloadCrc = payload == null ? 0 : RecordCodec.contentChecksum(payload);
        boolean attributed = false;
        for (Map.Entry<String, State> e : agents.entrySet()) {
            if (!sentBy(record, field, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                continue;
            }
            attributed = true;
            State s = e.getValue();
            synchronized (s) {
                long seq = stored;
                if (payload != null && s.contents.compare(stored, payloadCrc) != ContentWindow.Match.SAME) {
                    for (int bit = 0; bit < 64; bit++) {
                        if (s.contents.compare(stored ^ (1L << bit), payloadCrc) == ContentWindow.Match.SAME) {
                            seq = stored ^ (1L << bit);
                            break;
                        }
                    }
                }
                s.held.remove(seq);
            }
        }
        if (!attributed) {
            forgetUnattributed(record, stored);
        }
    }

    /**
     * The agent id itself is damaged (more than one byte). Whose batch it was is found by its content: for each agent,
     * the bytes after an id of that agent's length (and the 4-byte payload length, whatever it says) are checksummed
     * and looked up among that agent's recent seqs. If no content matches either (the payload is damaged too), the
     * stored seq is forgotten for every agent: a wrongly forgotten seq costs one duplicate write, a wrongly kept one
     * answers DUPLICATE for a batch this WAL no longer holds.
     */
    private void forgetUnattributed(byte[] record, long stored) {
        boolean found = false;
        for (Map.Entry<String, State> e : agents.entrySet()) {
            int at = RecordCodec.AGENT_OFFSET + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4;
            if (at > record.length) {
                continue;
            }
            int crc = RecordCodec.contentChecksum(Arrays.copyOfRange(record, at, record.length));
            State s = e.getValue();
            synchronized (s) {
                long seq = s.contents.seqWithContent(crc, stored);
                if (seq != 0) {
                    s.held.remove(seq);
                    found = true;
                }
            }
        }
        if (!found && stored != 0) {
            for (State s : agents.values()) {
                synchronized (s) {
                    s.held.remove(stored);
                }
            }
        }
    }

    private static boolean sentBy(byte[] record, byte[] field, byte[] agent) {
        int at = RecordCodec.AGENT_OFFSET;
        if (at + agent.length <= record.length
                && Arrays.equals(record, at, at + agent.length, agent, 0, agent.length)) {
            return true; // the id stands where it belongs, whatever its length field says
        }
        if (field == null || field.length != agent.length) {
            return false;
        }
        int differing = 0;
        for (int i = 0; i < agent.length && differing <= 1; i++) {
            if (field[i] != agent[i]) {
                differing++;
            }
        }
        return differing <= 1;
    }

    /** The resume point from what this WAL holds alone. */
    public Resume resume(String agentId) {
        return resume(agentId, 0);
    }

    /**
     * The resume point for one answer to an agent that claims every seq in (0, {@code claimedThrough}] is durable
     * somewhere (its Hello's {@code acknowledged_through}; 0 = no claim): the claim merged with what this WAL holds,
     * so an agent failing over from another node resumes without a long list. Read-only: the claim is not
     * remembered, and a batch at or below it that arrives anyway is written.
     */
    public Resume resume(String agentId, long claimedThrough) {
        State s = agents.get(agentId);
        if (s == null) {
            return new Resume(claimedThrough, List.of());
        }
        synchronized (s) {
            long through = s.held.contiguousThrough(claimedThrough);
            return new Resume(through, s.held.heldAbove(through, MAX_RESUME_ABOVE));
        }
    }

    /** One agent's held ranges as {start, end} pairs, lowest first (tests and diagnostics). */
    List<long[]> rangesOf(String agentId) {
        State s = agents.get(agentId);
        if (s == null) {
            return List.of();
        }
        synchronized (s) {
            return s.held.ranges();
        }
    }

    public int agentCount() {
        return agents.size();
    }

    /** Checkpoint body: per agent its ranges and its checksum window. The format is versioned by SequenceSnapshots. */
    void writeTo(DataOutputStream out) throws IOException {
        List<Map.Entry<String, State>> entries = new ArrayList<>(agents.entrySet()); // a count that matches
        out.writeInt(entries.size());
        for (Map.Entry<String, State> e : entries) {
            State s = e.getValue();
            synchronized (s) {
                out.writeUTF(e.getKey());
                List<long[]> ranges = s.held.ranges();
                out.writeInt(ranges.size());
                for (long[] r : ranges) {
                    out.writeLong(r[0]);
                    out.writeLong(r[1]);
                }
                out.writeInt(s.contents.size());
                for (int slot = 0; slot < ContentWindow.SIZE; slot++) {
                    long seq = s.contents.seqAt(slot);
                    if (seq != 0) {
                        out.writeLong(seq);
                        out.writeInt(s.contents.crcAt(slot));
                    }
                }
            }
        }
    }

    static AgentSequences readFrom(DataInputStream in) throws IOException {
        AgentSequences seqs = new AgentSequences();
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("negative agent count " + n);
        }
        for (int i = 0; i < n; i++) {
            State s = new State();
            String agent = in.readUTF();
            int ranges = in.readInt();
            if (ranges < 0 || ranges > MAX_RANGES_PER_AGENT) {
                throw new IOException("agent " + agent + ": " + ranges + " ranges");
            }
            try {
                for (int j = 0; j < ranges; j++) {
                    s.held.restore(in.readLong(), in.readLong());
                }
            } catch (IllegalArgumentException e) {
                throw new IOException("agent " + agent + ": " + e.getMessage());
            }
            int window = in.readInt();
            if (window < 0 || window > ContentWindow.SIZE) {
                throw new IOException("agent " + agent + ": " + window + " checksums");
            }
            for (int j = 0; j < window; j++) {
                long seq = in.readLong();
                int crc = in.readInt();
                if (seq != 0 && s.held.contains(seq)) {
                    s.contents.put(seq, crc);
                }
            }
            seqs.agents.put(agent, s);
        }
        return seqs;
    }
}
