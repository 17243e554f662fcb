package dev.holdfast.intake;

import java.util.HashMap;
import java.util.Map;

/**
 * Admission bound on bytes received but not yet acknowledged, shared fairly between agents. Never blocks: a batch
 * that is not admitted is answered RETRY_LATER, so memory stays bounded however many agents push at once.
 *
 * <p>First come, first served would let a few agents flooding the intake take the whole budget, and a well-behaved
 * agent would be told to retry. So:
 * <ul>
 *   <li>an agent with nothing in flight is admitted whenever the total has room;</li>
 *   <li>no agent holds more than half of the budget;</li>
 *   <li>the last quarter of the budget is only for agents under their fair share: the budget divided by one more
 *       than the agents with something in flight, so that the flooding agents leave room for one more.</li>
 * </ul>
 */
public final class InflightBytes {
    /** What {@link #tryAcquire} answers. */
    public enum Refusal { NONE, TOTAL, AGENT_SHARE }

    private final long limitBytes;
    private final Map<String, Long> byAgent = new HashMap<>();
    private long total;

    public InflightBytes(long limitBytes) {
        if (limitBytes <= 0) {
            throw new IllegalArgumentException("limitBytes must be positive: " + limitBytes);
        }
        this.limitBytes = limitBytes;
    }

    /** Reserves room for an agent's batch; every {@link Refusal#NONE} must be followed by one {@link #release}. */
    public synchronized Refusal tryAcquire(String agentId, int bytes) {
        if (total + bytes > limitBytes) {
            return Refusal.TOTAL;
        }
        long held = byAgent.getOrDefault(agentId, 0L);
        if (held > 0) {
            long after = held + bytes;
            if (after > limitBytes / 2) {
                return Refusal.AGENT_SHARE;
            }
            // the share counts one agent more than those in flight, so that some room is always left for a newcomer
            long share = limitBytes / (byAgent.size() + 1);
            if (total + bytes > limitBytes - limitBytes / 4 && after > share) {
                return Refusal.AGENT_SHARE;
            }
        }
        byAgent.put(agentId, held + bytes);
        total += bytes;
        return Refusal.NONE;
    }

    public synchronized void release(String agentId, int bytes) {
        Long held = byAgent.get(agentId);
        if (held == null || held < bytes) {
            throw new IllegalStateException("released " + bytes + " bytes that agent did not hold (" + held + ")");
        }
        if (held == bytes) {
            byAgent.remove(agentId);
        } else {
            byAgent.put(agentId, held - bytes);
        }
        total -= bytes;
    }

    public synchronized long inUseBytes() {
        return total;
    }

    /** Agents with a batch in flight now. */
    public synchronized int agents() {
        return byAgent.size();
    }
}
