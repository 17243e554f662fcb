package dev.holdfast.wal;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AgentSequencesTest {
    @Test
    void tracksContiguousPrefixAndOutOfOrderBatches() {
        AgentSequences s = new AgentSequences();
        assertEquals(new AgentSequences.Resume(0, List.of()), s.resume("a"));
        assertTrue(s.add("a", 1));
        assertTrue(s.add("a", 2));
        assertTrue(s.add("a", 4)); // 3 was shed and will be resent
        assertTrue(s.add("a", 5));
        assertFalse(s.add("a", 2));
        assertFalse(s.add("a", 5));
        assertFalse(s.contains("a", 3));
        assertEquals(new AgentSequences.Resume(2, List.of(4L, 5L)), s.resume("a"));
        assertTrue(s.add("a", 3));
        assertEquals(new AgentSequences.Resume(5, List.of()), s.resume("a"));
        assertFalse(s.contains("b", 1));
    }

    @Test
    void abandonedGapIsBounded() {
        AgentSequences s = new AgentSequences();
        s.add("a", 1);
        for (long seq = 3; seq <= AgentSequences.MAX_OUT_OF_ORDER + 3; seq++) {
            s.add("a", seq);
        }
        AgentSequences.Resume r = s.resume("a");
        assertEquals(AgentSequences.MAX_OUT_OF_ORDER + 3, r.persistedThrough());
        assertTrue(r.persistedAbove().isEmpty());
    }

    @Test
    void seqsAcknowledgedByAnotherNodeCloseTheGapBelowAnAgentThatFailedOver() {
        AgentSequences s = new AgentSequences();
        s.add("a", 5001); // first batch this node sees: 1..5000 went to another node
        s.add("a", 5003);
        assertEquals(new AgentSequences.Resume(0, List.of(5001L, 5003L)), s.resume("a"));
        s.acknowledgedElsewhere("a", 5000);
        assertEquals(new AgentSequences.Resume(5001, List.of(5003L)), s.resume("a"));
        assertTrue(s.contains("a", 17), "a resend of an old batch is a DUPLICATE here too");
        s.acknowledgedElsewhere("a", 12); // older news changes nothing
        s.acknowledgedElsewhere("a", 0);
        assertEquals(new AgentSequences.Resume(5001, List.of(5003L)), s.resume("a"));
    }
}
