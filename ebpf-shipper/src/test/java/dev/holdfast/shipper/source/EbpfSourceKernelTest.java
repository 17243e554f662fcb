package dev.holdfast.shipper.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.PriorityRules;
import dev.holdfast.shipper.ebpf.Filters;
import dev.holdfast.shipper.ebpf.ProbeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Real kernel (needs root, like EbpfProbeKernelTest): a child process writes a file; poll hands over its events. */
class EbpfSourceKernelTest {

    @Test
    void childWritingAFileIsSeenThroughPoll() throws Exception {
        Path root = Files.createTempDirectory("hf-ebpf-source-").toRealPath();
        String file = root.resolve("out.txt").toString();
        try (EbpfSource source = EbpfSource.open(ProbeConfig.defaults()
                .withFilters(Filters.defaults().withIncludePrefixes(Set.of(root + "/"))),
                new PriorityRules(Priority.NORMAL, List.of(new PriorityRules.Rule(root + "/out", Priority.CRITICAL))))) {
            Process p = new ProcessBuilder("/bin/sh", "-c", "echo hello > " + file).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "child ran");

            CollectingSink sink = new CollectingSink();
            List<Event> events = sink.events;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (events.size() < 3 && System.nanoTime() < deadline) {
                source.poll(sink, 100);
            }
            List<String> seen = events.stream().filter(e -> e.getFile().getPid() == p.pid())
                    .map(e -> e.getFile().getKind() + " " + e.getFile().getPath()).toList();
            assertEquals(List.of("CREATE " + file, "MODIFY " + file, "CLOSE_WRITE " + file), seen);
            for (Event e : events) {
                assertEquals("ebpf", e.getFile().getSource());
                assertEquals(e.getFile().getPath().startsWith(root + "/out") ? Priority.CRITICAL : Priority.NORMAL,
                        e.getPriority(), "the priority its path gets from the rules");
                assertTrue(Math.abs(e.getTimeUnixNano() / 1_000_000 - System.currentTimeMillis()) < 60_000,
                        "wall-clock time");
            }
            Map<String, Long> c = source.counters();
            assertEquals(14, c.size(), "every probe counter");
            assertTrue(c.get("emitted") >= 3);
            assertEquals("ebpf", source.name());
        }
    }
}
