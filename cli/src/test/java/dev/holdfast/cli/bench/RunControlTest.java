package dev.holdfast.cli.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunControlTest {
    private static final long S = 1_000_000_000L;

    @Test
    void anEarlyFinishStopsProductionAndKeepsTheDrainTime() {
        RunControl c = RunControl.byDuration(100 * S, 30 * S);
        assertTrue(c.mayProduce(5, 10 * S));
        c.finish(10 * S);
        assertFalse(c.mayProduce(5, 10 * S + 1), "no new batches once finished");
        assertFalse(c.gaveUp(39 * S), "outstanding batches still get the drain time");
        assertTrue(c.gaveUp(40 * S), "given up the drain time after the finish, not after the original deadline");
        assertTrue(c.stopProducingAtNanos() == 10 * S, "the measured window ends at the finish");
        assertFalse(c.aborted(), "a finish is not an abort: the run can still succeed");
    }

    @Test
    void aFinishAfterTheDeadlineChangesNothing() {
        RunControl c = RunControl.byDuration(10 * S, 30 * S);
        c.finish(20 * S);
        assertTrue(c.stopProducingAtNanos() == 10 * S);
        assertFalse(c.gaveUp(39 * S));
        assertTrue(c.gaveUp(40 * S));
    }
}
