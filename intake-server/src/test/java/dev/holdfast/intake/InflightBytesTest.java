package dev.holdfast.intake;

import org.junit.jupiter.api.Test;

import static dev.holdfast.intake.InflightBytes.Refusal.*;
import static org.junit.jupiter.api.Assertions.*;

class InflightBytesTest {
    private static final int KIB = 1024;

    @Test
    void floodingAgentsLeaveRoomForAWellBehavedOne() {
        InflightBytes inflight = new InflightBytes(1024 * KIB);
        // four agents flood with 32 KiB batches until each is refused
        int admitted = 0;
        for (int round = 0; round < 100; round++) {
            for (int a = 0; a < 4; a++) {
                if (inflight.tryAcquire("flood-" + a, 32 * KIB) == NONE) {
                    admitted++;
                }
            }
        }
        assertEquals(4, inflight.agents());
        // they stop at three quarters of the budget: each holds its fair share (a quarter) only below that mark
        assertEquals(24, admitted);
        assertEquals(768 * KIB, inflight.inUseBytes());
        assertEquals(AGENT_SHARE, inflight.tryAcquire("flood-0", 32 * KIB));
        // the well-behaved agent still gets in, and again while under its share
        assertEquals(NONE, inflight.tryAcquire("canary", 8 * KIB));
        assertEquals(NONE, inflight.tryAcquire("canary", 8 * KIB));
        inflight.release("canary", 8 * KIB);
        inflight.release("canary", 8 * KIB);
        assertEquals(4, inflight.agents());
    }

    @Test
    void noAgentHoldsMoreThanHalfButAnAgentWithNothingInFlightFitsWheneverTheTotalDoes() {
        InflightBytes inflight = new InflightBytes(1024 * KIB);
        assertEquals(NONE, inflight.tryAcquire("big", 400 * KIB));
        assertEquals(AGENT_SHARE, inflight.tryAcquire("big", 200 * KIB), "over half the budget");
        assertEquals(NONE, inflight.tryAcquire("big", 100 * KIB));
        // a batch as large as the whole budget from an agent holding nothing: only the total counts
        InflightBytes small = new InflightBytes(4 * KIB * KIB);
        assertEquals(NONE, small.tryAcquire("gateway", 4 * KIB * KIB));
        assertEquals(TOTAL, small.tryAcquire("other", 1));
        small.release("gateway", 4 * KIB * KIB);
        assertEquals(0, small.inUseBytes());
        assertEquals(0, small.agents());
        assertEquals(NONE, small.tryAcquire("other", 1));
    }

    @Test
    void theTotalIsNeverExceeded() {
        InflightBytes inflight = new InflightBytes(100 * KIB);
        for (int a = 0; a < 10; a++) {
            assertEquals(NONE, inflight.tryAcquire("a" + a, 10 * KIB));
        }
        assertEquals(TOTAL, inflight.tryAcquire("late", 1));
        assertEquals(100 * KIB, inflight.inUseBytes());
    }

    @Test
    void releasingWhatWasNotHeldIsABug() {
        InflightBytes inflight = new InflightBytes(100 * KIB);
        inflight.tryAcquire("a", 10);
        assertThrows(IllegalStateException.class, () -> inflight.release("a", 11));
        assertThrows(IllegalStateException.class, () -> inflight.release("b", 1));
    }
}
