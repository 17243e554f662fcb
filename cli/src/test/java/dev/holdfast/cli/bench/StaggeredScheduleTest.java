package dev.holdfast.cli.bench;

import dev.holdfast.client.Endpoints;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code --stagger}: with a rate, agent i sends i/agents of an interval after agent 0; without it, all together. */
class StaggeredScheduleTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private static IngestConfig config(boolean stagger) {
        return new IngestConfig(List.of(new Endpoints.Target("127.0.0.1", 4317)), 4, 5, 200, 10, 0, null, 8,
                Priority.NORMAL, "t", null, 0, 30, 16, 40, IngestConfig.DEFAULT_DNS_REFRESH_SECONDS, stagger);
    }

    @Test
    void staggeredAgentsStartAQuarterOfAnIntervalApart() {
        IngestConfig staggered = config(true);
        assertEquals(25 * MS, staggered.batchIntervalNanos());
        assertEquals(List.of(0L, 6_250_000L, 12_500_000L, 18_750_000L),
                List.of(staggered.firstBatchOffsetNanos(0), staggered.firstBatchOffsetNanos(1),
                        staggered.firstBatchOffsetNanos(2), staggered.firstBatchOffsetNanos(3)));
        IngestConfig together = config(false);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, together.firstBatchOffsetNanos(i));
        }
    }

    @Test
    void anAgentSendsNothingBeforeItsFirstBatchIsDueAndThenKeepsItsPhase() {
        BatchEncoder encoder = new BatchEncoder(EventPool.build(16, 200, Priority.NORMAL, 1), 5);
        long start = 1_000 * MS;
        long first = start + 6_250_000L;
        GeneratedBatches agent = new GeneratedBatches("t-1", encoder, RunControl.byBatches(100), AckSink.none(),
                25 * MS, first);
        assertNull(agent.next(start), "due 6.25 ms after the start");
        assertEquals(first, agent.nextDueNanos(start, 1_000 * MS));
        assertNotNull(agent.next(first));
        assertNull(agent.next(first + MS));
        assertNull(agent.next(first + 25 * MS - 1));
        assertNotNull(agent.next(first + 25 * MS), "one interval after the first, in the same phase");
    }
}
