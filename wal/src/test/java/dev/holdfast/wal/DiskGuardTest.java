package dev.holdfast.wal;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class DiskGuardTest {
    @Test
    void freeSpaceShrinksTheBudgetBeforeTheSizeLimitDoes() {
        AtomicLong free = new AtomicLong(1_000_000);
        DiskGuard g = new DiskGuard(new DiskGuard.Limits(10_000_000, 200_000, 0.8, 0.9, 500), free::get, 0);
        assertEquals(800_000, g.budgetBytes());
        assertNull(g.refusal(BatchPriority.BULK, 600_000));
        assertNotNull(g.refusal(BatchPriority.BULK, 700_000));
        assertNull(g.refusal(BatchPriority.NORMAL, 700_000));
        assertNull(g.refusal(BatchPriority.CRITICAL, 800_000));
        assertNotNull(g.refusal(BatchPriority.CRITICAL, 800_001));
        // a refused CRITICAL batch makes the WAL report FULL (not ready) until such a batch would fit again
        assertEquals(DiskGuard.Pressure.FULL, g.pressure());
        assertNull(g.refusal(BatchPriority.CRITICAL, 1_000));
        assertEquals(DiskGuard.Pressure.OK, g.pressure());
        // bytes written since the last statfs count against free space immediately
        g.onAppended(700_000);
        assertEquals(300_000, g.freeBytes());
        assertEquals(DiskGuard.Pressure.SHED_BULK, g.pressure());
        free.set(50_000); // someone else filled the disk
        g.refresh();
        assertEquals(DiskGuard.Pressure.FULL, g.pressure());
        assertTrue(g.refusal(BatchPriority.CRITICAL, 1).contains("FULL"));
    }

    @Test
    void aWalThatRefusesEverythingStillSeesSpaceComeBack() {
        AtomicLong free = new AtomicLong(100_000);
        AtomicLong now = new AtomicLong();
        DiskGuard g = new DiskGuard(new DiskGuard.Limits(10_000_000, 50_000, 0.8, 0.9, 500), free::get, 0, now::get);
        assertNotNull(g.refusal(BatchPriority.CRITICAL, 60_000), "does not fit in the 50,000 bytes left");
        free.set(1_000_000); // someone else freed space; nothing is written, so no group commit re-reads it
        assertNotNull(g.refusal(BatchPriority.CRITICAL, 60_000), "within the interval the last reading stands");
        now.addAndGet(DiskGuard.REFRESH_WHILE_REFUSING_NANOS);
        assertNull(g.refusal(BatchPriority.CRITICAL, 60_000));
        assertNull(g.refusal(BatchPriority.BULK, 60_000));
        assertEquals(DiskGuard.Pressure.OK, g.pressure());
    }

    @Test
    void unknownFreeSpaceIsTreatedAsFull() {
        DiskGuard g = new DiskGuard(new DiskGuard.Limits(1000, 0, 0.8, 0.9, 500), () -> 0, 0);
        assertEquals(DiskGuard.Pressure.FULL, g.pressure());
    }
}
