package dev.holdfast.broker;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class FreePortsTest {
    @Test
    void portsPickedTogetherAreDistinctAndAvoidTheTakenOnes() throws Exception {
        // Picked one at a time, the kernel handed the same port out twice in a row (CI, 2026-12-03: Kafka refused
        // PLAINTEXT and CONTROLLER on one port). Many rounds, so a repeat would show.
        for (int round = 0; round < 50; round++) {
            List<Integer> first = FreePorts.distinct("127.0.0.1", 3, List.of());
            List<Integer> ports = FreePorts.distinct("127.0.0.1", 20, first);
            Set<Integer> unique = new HashSet<>(ports);
            assertEquals(20, unique.size(), "distinct: " + ports);
            first.forEach(p -> assertFalse(unique.contains(p), "avoided " + p + ": " + ports));
        }
    }
}
