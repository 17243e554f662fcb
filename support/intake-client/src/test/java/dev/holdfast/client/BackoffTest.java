package dev.holdfast.client;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {

    @Test
    void fullJitterGrowsToTheCapAndResets() {
        Backoff backoff = new Backoff(50, 2_000, new SplittableRandom(3));
        long[] ceilings = {50, 100, 200, 400, 800, 1600, 2000, 2000, 2000};
        for (long ceiling : ceilings) {
            long delay = backoff.nextDelayMillis();
            assertTrue(delay >= 0 && delay <= ceiling, delay + " > " + ceiling);
        }
        assertEquals(2_000, backoff.ceilingMillis(1_000));
        backoff.reset();
        assertTrue(backoff.nextDelayMillis() <= 50);
    }
}
