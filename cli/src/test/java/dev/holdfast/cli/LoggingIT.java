package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The processes' log lines as an operator and a log pipeline see them: the built CLI in its own process, stderr read
 * line by line. Text lines carry an ISO 8601 time, level, thread and logger; JSON lines are one object each; the flags
 * win over the config file's {@code log} section; stdout keeps only the command's own output.
 */
class LoggingIT {
    private static final Pattern TEXT_LINE = Pattern.compile(
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) (ERROR|WARN |INFO |DEBUG|TRACE) "
                    + "\\[[^]]+] \\S+: .*");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void textLinesCarryTimeLevelThreadAndLogger() throws Exception {
        Run run = intake();
        assertTrue(run.stderr().stream().anyMatch(l -> l.matches(
                        ".* INFO  \\[main] dev\\.holdfast\\.intake\\.IntakeServer: starting \\d+ ms after JVM start")),
                "the intake's start is logged with its level, thread and logger: " + run);
        for (String line : run.stderr()) {
            assertTrue(TEXT_LINE.matcher(line).matches(), "not a log line: " + line + "\n" + run);
        }
        assertStdoutIsTheListeningLineOnly(run);
    }

    @Test
    void jsonFromTheFlagIsOneObjectPerLineWithTheDebugLinesAsked() throws Exception {
        Run run = intake("--log-format", "json", "--log-level", "debug");
        List<JsonNode> events = json(run);
        assertTrue(events.stream().anyMatch(e -> e.path("level").asText().equals("DEBUG")), "debug lines: " + run);
        assertTrue(events.stream().anyMatch(e -> e.path("logger_name").asText().equals(
                "dev.holdfast.intake.IntakeServer") && e.path("message").asText().startsWith("starting ")), run.toString());
        assertStdoutIsTheListeningLineOnly(run);
    }

    @Test
    void theConfigFilesLogSectionAppliesAndTheFlagsWinOverIt() throws Exception {
        Path config = Files.writeString(tmp.resolve("intake.yaml"), "log:\n  format: json\n  level: warn\n");
        Run quiet = intake("--config", config.toString());
        assertEquals(List.of(), quiet.stderr(), "log.level warn leaves the start-up INFO lines out");

        Run flagged = intake("--config", config.toString(), "--log-level", "info");
        assertTrue(json(flagged).stream().anyMatch(e -> e.path("message").asText().startsWith("starting ")),
                "--log-level info wins over log.level warn: " + flagged);
    }

    @Test
    void theShippersOwnMessagesGoThroughTheLogger() throws Exception {
        int closed = FreePorts.next(); // nothing listens: the shipper logs its failed stream
        Path log = tmp.resolve("shipper.log");
        try (HoldfastProcess shipper = HoldfastProcess.start(log, "--log-format", "json", "shipper", "--source",
                "fallback", "--intake", "127.0.0.1:" + closed, "--watch", Files.createDirectories(tmp.resolve("w"))
                        .toString(), "--spool", tmp.resolve("spool").toString(), "--metrics-port", "-1",
                "--agent-id", "logging-it", "--status-interval", "0")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.readString(log).contains("reconnecting with backoff")) {
                if (System.nanoTime() > deadline || !shipper.alive()) {
                    fail("no reconnect warning from the shipper:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
            shipper.stop();
        }
        JsonNode warning = null;
        for (String line : Files.readAllLines(log)) {
            if (line.contains("reconnecting with backoff")) {
                warning = JSON.readTree(line); // the whole line is one JSON object, not text around one
            }
        }
        assertEquals("WARN", warning.path("level").asText(), warning.toString());
        assertEquals("dev.holdfast.client.IntakeSession", warning.path("logger_name").asText());
        assertTrue(warning.path("message").asText().startsWith("agent logging-it: stream to 127.0.0.1:" + closed),
                warning.toString());
    }

    @Test
    void aBadFormatIsOneLineNamingTheFlag() throws Exception {
        Path err = tmp.resolve("err.log");
        HoldfastProcess.Result r = HoldfastProcess.run(err, Duration.ofSeconds(60), "wal", "ls", "--log-format", "xml",
                tmp.toString());
        assertEquals(2, r.exitCode());
        assertTrue(Files.readAllLines(err).get(0).equals(
                "Invalid value for option '--log-format': \"xml\" is not one of text|json"), Files.readString(err));
    }

    private record Run(List<String> stdout, List<String> stderr) {
        @Override
        public String toString() {
            return "stdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + String.join("\n", stderr);
        }
    }

    /** {@code intake --check} on a fresh directory: starts, prints its line, exits. */
    private Run intake(String... extra) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "intake");
        List<String> args = new ArrayList<>(List.of("intake", "--data", dir.resolve("data").toString(),
                "--grpc-port", "0", "--http-port", "0", "--otlp-http-port", "0", "--kafka", "none", "--check"));
        args.addAll(List.of(extra));
        Path err = dir.resolve("stderr.log");
        HoldfastProcess.Result r = HoldfastProcess.run(err, Duration.ofSeconds(60), args.toArray(String[]::new));
        Run run = new Run(r.stdout().lines().toList(), Files.readAllLines(err));
        assertEquals(0, r.exitCode(), run.toString());
        return run;
    }

    private static List<JsonNode> json(Run run) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        for (String line : run.stderr()) {
            JsonNode e = JSON.readTree(line);
            for (String field : List.of("@timestamp", "level", "thread_name", "logger_name", "message")) {
                assertTrue(e.hasNonNull(field), field + " missing in " + line);
            }
            events.add(e);
        }
        assertFalse(events.isEmpty(), run.toString());
        return events;
    }

    private static void assertStdoutIsTheListeningLineOnly(Run run) {
        assertEquals(1, run.stdout().size(), run.toString());
        assertTrue(run.stdout().get(0).startsWith("holdfast intake "), run.toString());
    }
}
