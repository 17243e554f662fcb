package dev.holdfast.cli;

import dev.holdfast.broker.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code holdfast kafka --cluster 3} as an operator runs it: three broker processes, one line each and the ready
 * line; SIGTERM stops all three, and so does a SIGKILL of the command (the brokers watch its pid). A second run on
 * the same directory comes back on the same ports.
 */
class KafkaClusterIT {
    private static final Pattern BROKER_LINE =
            Pattern.compile("kafka broker id=(\\d+) pid=(\\d+) bootstrap=(127\\.0\\.0\\.1:\\d+)");

    @TempDir
    Path tmp;

    @Test
    @Timeout(240)
    void threeBrokerProcessesStopWithTheCommand() throws Exception {
        Path data = tmp.resolve("kafka");
        Path log = tmp.resolve("kafka-cluster.log");
        List<Long> pids;
        String ready;
        try (HoldfastProcess kafka = HoldfastProcess.start(log, "kafka", "--cluster", "3", "--port", "0",
                "--data", data.toString())) {
            long t0 = System.nanoTime();
            List<String> lines = awaitReady(kafka, log, 0);
            System.out.println("holdfast kafka --cluster 3 ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            ready = lines.get(3);
            pids = checkLines(lines);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    ready.substring(EmbeddedKafka.READY_PREFIX.length())))) {
                assertEquals(3, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
            }

            long t1 = System.nanoTime();
            kafka.stop(); // SIGTERM
            System.out.println("stopped in " + (System.nanoTime() - t1) / 1_000_000 + " ms");
            for (long pid : pids) {
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                        "broker " + pid + " stopped with the command");
            }
            assertTrue(Files.readString(log).strip().endsWith(EmbeddedKafka.STOPPED_LINE), Files.readString(log));
        }

        // again on the same directory, --port left out: the same ports (kept in cluster.properties)
        long logStart = Files.size(log);
        try (HoldfastProcess kafka = HoldfastProcess.start(log, "kafka", "--cluster", "3", "--data", data.toString())) {
            List<String> lines = awaitReady(kafka, log, logStart);
            assertEquals(ready, lines.get(3), "the same brokers on the same ports");
            List<Long> again = checkLines(lines);

            kafka.kill(); // SIGKILL: no shutdown hook; the brokers notice their parent is gone
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (long pid : again) {
                Optional<ProcessHandle> broker = ProcessHandle.of(pid);
                while (broker.isPresent() && broker.get().isAlive()) {
                    if (System.nanoTime() > deadline) {
                        broker.get().destroyForcibly();
                        fail("broker " + pid + " outlived the SIGKILLed command by 60 s");
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    /** The four lines the command prints (stdout and stderr share the log; only these lines are on stdout). */
    private static List<String> awaitReady(HoldfastProcess kafka, Path log, long from) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log).substring((int) from);
            List<String> ours = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("kafka ")) {
                    ours.add(line);
                }
            }
            if (!ours.isEmpty() && ours.get(ours.size() - 1).startsWith(EmbeddedKafka.READY_PREFIX)) {
                return ours;
            }
            if (!kafka.alive()) {
                fail("holdfast kafka --cluster 3 exited with " + kafka.process().exitValue() + ":\n" + text);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not ready within 120 s:\n" + Files.readString(log));
    }

    /** Exactly {@code kafka broker id=N pid=P bootstrap=H:P} for 1, 2, 3, then the ready line with their addresses. */
    private static List<Long> checkLines(List<String> lines) {
        assertEquals(4, lines.size(), String.join("\n", lines));
        List<Long> pids = new ArrayList<>();
        List<String> bootstraps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Matcher m = BROKER_LINE.matcher(lines.get(i));
            assertTrue(m.matches(), lines.get(i));
            assertEquals(i + 1, Integer.parseInt(m.group(1)));
            long pid = Long.parseLong(m.group(2));
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "broker " + pid + " runs");
            pids.add(pid);
            bootstraps.add(m.group(3));
        }
        Set<Long> distinct = new HashSet<>(pids);
        assertEquals(3, distinct.size(), "three processes: " + pids);
        assertEquals(EmbeddedKafka.READY_PREFIX + String.join(",", bootstraps), lines.get(3));
        return pids;
    }
}
