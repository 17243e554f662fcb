package dev.holdfast.shipper.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A burst far larger than a 4 KiB ring buffer: the kernel side counts drops; draining neither hangs nor loses count. */
class RingOverflowTest {
    @Test
    void burstLargerThanTheRingReportsDrops() throws Exception {
        Path root = KernelFixture.tempRoot("hf-ebpf-burst-");
        int n = 3000;
        try (EbpfProbe probe = EbpfProbe.open(ProbeConfig.defaults().withRingBufferBytes(4096)
                .withFilters(Filters.defaults().withIncludePrefixes(Set.of(root + "/"))))) {
            KernelFixture fx = new KernelFixture(probe);
            long pid = KernelFixture.fileops(null, "burst", root.toString(), Integer.toString(n));
            long t0 = System.nanoTime();
            fx.drainAll();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Counters c = probe.counters();
            long mine = fx.seen.stream().filter(e -> e.pid() == pid).count();
            System.out.printf("burst of %d creates into a 4 KiB ring: delivered %d, dropped %d, drained in %d ms%n",
                    n, mine, c.dropped(), ms);
            assertTrue(c.dropped() > 0, "drops counted");
            assertEquals(n, c.emitted() + c.dropped(), "every event either delivered or counted as dropped");
            assertEquals(c.emitted(), mine);
            assertTrue(ms < 5000, "drain returned promptly");
        }
    }
}
