package dev.holdfast.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main command, as a user runs it: `holdfast node` brings up the embedded Kafka broker, the intake
 * with its forwarder and a shipper over the demo activity, and its live counts show events going all the way to
 * Kafka, none dropped; SIGTERM stops it cleanly.
 */
class NodeIT {
    private static final Pattern COUNTS = Pattern.compile(
            "node: shipper\\[(\\w+)]: drained=(\\d+) acked=(\\d+) .* drops=(\\d+) .*\\| intake: wal events=(\\d+) \\| forwarder: to kafka=(\\d+)");

    @TempDir
    Path tmp;

    @Test
    void theNodeCommandCarriesDemoFileEventsIntoKafka() throws Exception {
        Path log = tmp.resolve("node.log");
        HoldfastProcess node = HoldfastProcess.start(log, "node", "--data", tmp.resolve("data").toString(),
                "--grpc-port", "0", "--http-port", "0", "--otlp-http-port", "0", "--metrics-port", "0", "--status-interval", "1");
        Matcher last = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && node.alive()) {
                Matcher m = lastCounts(log);
                if (m != null && Long.parseLong(m.group(6)) >= 50) {
                    last = m;
                    break;
                }
                Thread.sleep(500);
            }
            assertTrue(last != null, "no events reached Kafka within 120 s; log: " + Files.readString(log));
            assertEquals("0", last.group(4), "drops: " + last.group());
            assertTrue(Long.parseLong(last.group(3)) > 0 && Long.parseLong(last.group(5)) > 0, last.group());
        } finally {
            int exit = node.stop();
            // 143 = terminated by SIGTERM after the shutdown hook ran; anything else is a crash or a hang
            assertTrue(exit == 143 || exit == 0, "exit " + exit + " after SIGTERM; log: " + Files.readString(log));
        }
        assertTrue(Files.readString(log).contains("(stopped)"), "final counts printed on the way out");
    }

    private static Matcher lastCounts(Path log) throws Exception {
        Matcher found = null;
        for (String line : Files.readAllLines(log)) {
            Matcher m = COUNTS.matcher(line);
            if (m.find()) found = m;
        }
        return found;
    }
}
