package dev.holdfast.cli;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WAL tools' progress bars as an operator sees them: the built CLI on a real pseudo-terminal (util-linux
 * {@code script}), and the same commands with stderr or stdout sent to files.
 */
class WalProgressIT {
    private static final Pattern FRAME = Pattern.compile(
            "\r(verifying|dumping|counting) \\[[=> ]{24}] +(\\d+)%  \\S+ \\S+ / \\S+ \\S+  \\S+ \\S+/s  ETA \\d+:\\d\\d ");

    @TempDir
    Path tmp;
    private Path data;

    @BeforeEach
    void aWalOfSomeMegabytes() throws Exception {
        data = tmp.resolve("data");
        EventBatch.Builder batch = EventBatch.newBuilder().setAgentId("a1");
        for (int i = 0; i < 500; i++) {
            batch.addEvents(Event.newBuilder().setTimeUnixNano(i).putAttributes("path", "/var/log/app/" + "x".repeat(150)));
        }
        try (Wal wal = Wal.open(WalConfig.defaults(data.resolve("wal"), false), CommitListener.NONE)) {
            for (int seq = 1; seq <= 400; seq++) {
                wal.append(new BatchHeader("a1", seq, 500, BatchPriority.NORMAL, seq),
                        batch.setBatchSeq(seq).build().toByteArray()).get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void onATerminalEachToolDrawsItsBarToTheEndAndThenItsOutput() throws Exception {
        String verify = onTerminal("wal verify --data " + data);
        List<Integer> percents = percents(verify, "verifying");
        assertEquals(100, percents.get(percents.size() - 1), verify);
        assertTrue(verify.indexOf("records verified: 400") > verify.lastIndexOf("\rverifying"),
                "the report follows the finished bar: " + verify);

        String dump = onTerminal("wal dump --events --data " + data + " > " + tmp.resolve("dump.json"));
        assertEquals(100, percents(dump, "dumping").get(percents(dump, "dumping").size() - 1), dump);
        assertEquals(400, Files.readAllLines(tmp.resolve("dump.json")).size(), "the file holds records only");

        String dry = onTerminal("wal replay --dry-run --data " + data);
        assertTrue(percents(dry, "counting").contains(100), dry);
        assertTrue(dry.contains("would replay 400 records, 200,000 events"), dry);
    }

    @Test
    void aDumpOnTheTerminalItselfAndToolsWithStderrInAFileDrawNothing() throws Exception {
        String dump = onTerminal("wal dump --data " + data + " --to 3");
        assertTrue(!dump.contains("dumping"), "no bar through records on the same screen: " + dump);

        Path err = tmp.resolve("err.log");
        HoldfastProcess.Result verify = HoldfastProcess.run(err, Duration.ofSeconds(60), "wal", "verify", "--data",
                data.toString());
        assertEquals(0, verify.exitCode());
        HoldfastProcess.Result replay = HoldfastProcess.run(err, Duration.ofSeconds(60), "wal", "replay", "--dry-run",
                "--data", data.toString());
        assertEquals(0, replay.exitCode());
        assertEquals("", Files.readString(err), "nothing on stderr when it is a file");
        assertTrue(!verify.stdout().contains("\r") && !replay.stdout().contains("\r"), verify.stdout() + replay.stdout());
    }

    /** Runs {@code holdfast ARGS} under {@code script}: stdin, stdout and stderr on one pseudo-terminal. */
    private String onTerminal(String args) throws Exception {
        Path transcript = tmp.resolve("tty.out");
        String command = String.join(" ", HoldfastProcess.command()) + " " + args;
        Process p = new ProcessBuilder("script", "-qfec", command, transcript.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "holdfast " + args + " did not finish");
        String out = Files.readString(transcript);
        assertTrue(out.contains("COMMAND_EXIT_CODE=\"0\""), out);
        return out;
    }

    private static List<Integer> percents(String transcript, String label) {
        List<Integer> percents = new java.util.ArrayList<>();
        Matcher m = FRAME.matcher(transcript);
        while (m.find()) {
            if (m.group(1).equals(label)) {
                percents.add(Integer.parseInt(m.group(2)));
            }
        }
        assertTrue(!percents.isEmpty(), "no " + label + " bar in: " + transcript);
        for (int i = 1; i < percents.size(); i++) {
            assertTrue(percents.get(i) >= percents.get(i - 1), "never goes back: " + percents);
        }
        return percents;
    }
}
