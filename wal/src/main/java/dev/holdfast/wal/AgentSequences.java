package dev.holdfast.wal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which batches of each agent are already in the WAL, so a resent batch is answered DUPLICATE instead of being
 * written twice, and a reconnecting agent learns where to resume.
 *
 * <p>Per agent it keeps the highest seq below which everything is persisted ({@code through}) and the few seqs
 * persisted above a gap (a shed batch that will be resent). A gap that stays open for more than
 * {@link #MAX_OUT_OF_ORDER} later batches is abandoned (the agent evidently dropped that batch), which bounds memory.
 *
 * <p>The WAL writer thread adds persisted seqs; gRPC threads read it for fast pre-checks and handshakes, and record
 * what an agent reports as acknowledged elsewhere ({@link #acknowledgedElsewhere}).
 */
public final class AgentSequences {
    public static final int MAX_OUT_OF_ORDER = 65_536;

    private final Map<String, State> agents = new ConcurrentHashMap<>();

    /** Resume point for one agent. */
    public record Resume(long persistedThrough, List<Long> persistedAbove) {
    }

    private static final class State {
        long through;
        final TreeSet<Long> above = new TreeSet<>();
    }

    public boolean contains(String agentId, long seq) {
        State s = agents.get(agentId);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return seq <= s.through || s.above.contains(seq);
        }
    }

    /** Records a persisted batch. Returns false when it was already known. */
    public boolean add(String agentId, long seq) {
        State s = agents.computeIfAbsent(agentId, k -> new State());
        synchronized (s) {
            if (seq <= s.through || s.above.contains(seq)) {
                return false;
            }
            if (seq == s.through + 1) {
                s.through = seq;
            } else {
                s.above.add(seq);
                if (s.above.size() > MAX_OUT_OF_ORDER) {
                    s.through = s.above.first() - 1;
                }
            }
            while (!s.above.isEmpty() && s.above.first() <= s.through + 1) {
                s.through = Math.max(s.through, s.above.pollFirst());
            }
            return true;
        }
    }

    /**
     * The agent holds nothing at or below {@code through} any more: every such seq was acknowledged (by this node or
     * another), so it counts as persisted here. Kept in memory only: the agent says it again on every Hello.
     */
    public void acknowledgedElsewhere(String agentId, long through) {
        if (through <= 0) {
            return;
        }
        State s = agents.computeIfAbsent(agentId, k -> new State());
        synchronized (s) {
            if (through > s.through) {
                s.through = through;
                while (!s.above.isEmpty() && s.above.first() <= s.through + 1) {
                    s.through = Math.max(s.through, s.above.pollFirst());
                }
            }
        }
    }

    public Resume resume(String agentId) {
        State s = agents.get(agentId);
        if (s == null) {
            return new Resume(0, List.of());
        }
        synchronized (s) {
            return new Resume(s.through, new ArrayList<>(s.above));
        }
    }

    public int agentCount() {
        return agents.size();
    }

    void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(agents.size());
        for (Map.Entry<String, State> e : agents.entrySet()) {
            State s = e.getValue();
            synchronized (s) {
                out.writeUTF(e.getKey());
                out.writeLong(s.through);
                out.writeInt(s.above.size());
                for (long seq : s.above) {
                    out.writeLong(seq);
                }
            }
        }
    }

    static AgentSequences readFrom(DataInputStream in) throws IOException {
        AgentSequences seqs = new AgentSequences();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            State s = new State();
            String agent = in.readUTF();
            s.through = in.readLong();
            int above = in.readInt();
            for (int j = 0; j < above; j++) {
                s.above.add(in.readLong());
            }
            seqs.agents.put(agent, s);
        }
        return seqs;
    }
}
