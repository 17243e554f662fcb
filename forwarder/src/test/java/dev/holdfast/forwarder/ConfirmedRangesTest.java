package dev.holdfast.forwarder;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ConfirmedRangesTest {
    @Test
    void outOfOrderConfirmationsMergeIntoRanges() {
        ConfirmedRanges c = new ConfirmedRanges();
        for (long i : new long[]{5, 3, 4, 10, 1, 2, 11, 12}) c.add(i);
        assertEquals(List.of("1-5", "10-12"), c.snapshot().stream().map(r -> r[0] + "-" + r[1]).toList());
        assertTrue(c.contains(4));
        assertFalse(c.contains(6));
        assertEquals(5, c.rangeEnd(2));
        assertEquals(-1, c.rangeEnd(7));
        assertTrue(c.containsAll(1, 5));
        assertFalse(c.containsAll(1, 10));
        c.add(6); c.add(7); c.add(8); c.add(9);
        assertEquals(1, c.size());
        assertTrue(c.containsAll(1, 12));
    }

    @Test
    void repairAndRetentionTrimRanges() {
        ConfirmedRanges c = new ConfirmedRanges();
        for (long i = 1; i <= 20; i++) c.add(i);
        c.removeRange(15, 17);
        assertEquals(List.of("1-14", "18-20"), c.snapshot().stream().map(r -> r[0] + "-" + r[1]).toList());
        c.addRange(30, 40);
        c.removeRange(19, 35);
        assertEquals(List.of("1-14", "18-18", "36-40"), c.snapshot().stream().map(r -> r[0] + "-" + r[1]).toList());
        c.removeRange(36, 40);
        c.removeRange(16, 1000);
        assertEquals(List.of("1-14"), c.snapshot().stream().map(r -> r[0] + "-" + r[1]).toList());
        c.addRange(100, 110);
        c.removeBelow(100);
        assertEquals(List.of("100-110"), c.snapshot().stream().map(r -> r[0] + "-" + r[1]).toList());
    }
}
