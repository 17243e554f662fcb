package dev.holdfast.cli;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real `holdfast` command line, run in-process, on the conditions an operator meets: each prints exactly one
 * line, {@code holdfast <command>: <what>: <reason>}, returns its documented exit code and prints no stack trace
 * unless --debug asks for it.
 */
class CliErrorsTest {
    private static final String PSEUDO = ": on a pseudo-filesystem (proc); choose a directory on a real disk";

    @TempDir
    Path tmp;

    /** What a run printed: the error report (picocli's err writer) apart from what the command itself wrote. */
    record Run(int exitCode, String report, String stdout, String stderr) {
        List<String> reportLines() {
            return report.lines().toList();
        }

        String everythingOnStderr() {
            return stderr + report;
        }
    }

    static Run run(String... args) {
        CommandLine cli = HoldfastCommand.commandLine();
        StringWriter report = new StringWriter();
        cli.setErr(new PrintWriter(report, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream realOut = System.out;
        PrintStream realErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = cli.execute(args);
            return new Run(code, report.toString(), out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(realOut);
            System.setErr(realErr);
        }
    }

    private static void assertOneLine(Run r, int exitCode, String line) {
        assertEquals(List.of(line), r.reportLines(), r.toString());
        assertEquals(exitCode, r.exitCode(), r.toString());
        assertFalse(r.everythingOnStderr().contains("\tat "), "no stack trace without --debug: " + r);
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify", "ls", "dump"})
    void aMissingDataDirectory(String tool) {
        Path missing = tmp.resolve("missing");
        assertOneLine(run("wal", tool, "--data", missing.toString()), 4,
                "holdfast wal " + tool + ": " + missing + ": no such directory");
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify", "ls", "dump"})
    void aRegularFile(String tool) throws Exception {
        Path file = Files.writeString(tmp.resolve("passwd"), "root:x:0:0\n");
        assertOneLine(run("wal", tool, "--data", file.toString()), 4,
                "holdfast wal " + tool + ": " + file + ": not a directory");
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify", "ls", "dump"})
    void aDirectoryUnderProc(String tool) {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "/proc is mounted");
        assertOneLine(run("wal", tool, "--data", "/proc/holdfast"), 4, "holdfast wal " + tool + ": /proc/holdfast" + PSEUDO);
        assertOneLine(run("wal", tool, "--data", "/proc/1"), 4, "holdfast wal " + tool + ": /proc/1" + PSEUDO);
    }

    @ParameterizedTest
    @ValueSource(strings = {"verify", "ls", "dump"})
    void aDirectoryWithoutAWal(String tool) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertOneLine(run("wal", tool, "--data", empty.toString()), 4,
                "holdfast wal " + tool + ": " + empty + ": not a WAL (no *.cq4 segments or metadata here or in wal/)");
    }

    @Test
    void aRealWalStillVerifiesFromTheDataDirectoryOrItsWalDirectory() throws Exception {
        Path data = tmp.resolve("data");
        try (Wal wal = Wal.open(WalConfig.defaults(data.resolve("wal"), false), CommitListener.NONE)) {
            byte[] batch = EventBatch.newBuilder().setAgentId("a1").setBatchSeq(1).addEvents(Event.newBuilder()
                    .setTimeUnixNano(1)).build().toByteArray();
            wal.append(new BatchHeader("a1", 1, 1, BatchPriority.NORMAL, 1), batch).get(10, TimeUnit.SECONDS);
        }
        Run viaData = run("wal", "verify", "--data", data.toString());
        assertEquals(0, viaData.exitCode(), viaData.toString());
        assertTrue(viaData.stdout().contains("records verified: 1"), viaData.stdout());
        assertEquals("", viaData.report());
        assertEquals(0, run("wal", "verify", "--data", data.resolve("wal").toString()).exitCode());
    }

    @Test
    void walDumpNamesEachRecordsKindAndShowsAnOtlpRequestAsOtlpJson() throws Exception {
        Path data = tmp.resolve("data");
        io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest otlp =
                io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.newBuilder().addResourceLogs(
                        io.opentelemetry.proto.logs.v1.ResourceLogs.newBuilder().addScopeLogs(
                                io.opentelemetry.proto.logs.v1.ScopeLogs.newBuilder().addLogRecords(
                                        io.opentelemetry.proto.logs.v1.LogRecord.newBuilder()
                                                .setSpanId(com.google.protobuf.ByteString.copyFrom(
                                                        new byte[]{1, 2, 3, 4, 5, 6, 7, (byte) 0xab}))
                                                .setSeverityNumberValue(17)))).build();
        try (Wal wal = Wal.open(WalConfig.defaults(data.resolve("wal"), false), CommitListener.NONE)) {
            byte[] batch = EventBatch.newBuilder().setAgentId("a1").setBatchSeq(1).addEvents(Event.newBuilder()
                    .setTimeUnixNano(1)).build().toByteArray();
            wal.append(new BatchHeader("a1", 1, 1, BatchPriority.NORMAL, 1), batch).get(10, TimeUnit.SECONDS);
            wal.append(new BatchHeader("otlp", 0, 1, BatchPriority.CRITICAL, 2,
                    dev.holdfast.wal.RecordKind.OTLP_LOGS), otlp.toByteArray()).get(10, TimeUnit.SECONDS);
        }
        Run r = run("wal", "dump", "--data", data.toString(), "--events");
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(2, lines.size(), r.stdout());
        assertTrue(lines.get(0).contains("\"kind\":\"events\"") && lines.get(0).contains("\"event_list\":["),
                lines.get(0));
        assertTrue(lines.get(1).contains("\"kind\":\"otlp_logs\""), lines.get(1));
        assertTrue(lines.get(1).contains("\"otlp\":{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
                + "\"severityNumber\":17,\"spanId\":\"01020304050607ab\"}]}]}]}"), lines.get(1));
    }

    @Test
    void anIntakeOnProcFailsFastInOneLine() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "/proc is mounted");
        Run r = run("intake", "--data", "/proc/holdfast", "--kafka", "none", "--grpc-port", "0", "--otlp-http-port", "0", "--http-port", "0");
        assertOneLine(r, 4, "holdfast intake: /proc/holdfast" + PSEUDO);
        assertEquals("", r.stderr(), "nothing started, nothing logged");
    }

    @Test
    void anIntakeOnAFileNamesIt() throws Exception {
        Path file = Files.writeString(tmp.resolve("data"), "x");
        assertOneLine(run("intake", "--data", file.toString(), "--kafka", "none", "--grpc-port", "0", "--otlp-http-port", "0", "--http-port", "0"),
                4, "holdfast intake: " + file + ": not a directory");
    }

    @Test
    void aNodeOnProcFailsBeforeMakingAnything() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "/proc is mounted");
        assertOneLine(run("node", "--data", "/proc/holdfast", "--kafka", "none", "--grpc-port", "0", "--otlp-http-port", "0", "--http-port", "0",
                "--metrics-port", "-1", "--source", "fallback", "--no-demo"), 4, "holdfast node: /proc/holdfast" + PSEUDO);
    }

    @Test
    void aKafkaBrokerOnProcFailsInOneLine() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "/proc is mounted");
        assertOneLine(run("kafka", "--data", "/proc/holdfast/kafka", "--port", "0"), 4,
                "holdfast kafka: /proc/holdfast/kafka" + PSEUDO);
    }

    @Test
    void aShipperSpoolThatIsAFileIsNamed() throws Exception {
        Path file = Files.writeString(tmp.resolve("spool"), "x");
        assertOneLine(run("shipper", "--intake", "127.0.0.1:1", "--spool", file.toString(), "--source", "fallback",
                "--watch", tmp.toString(), "--metrics-port", "-1"), 4, "holdfast shipper: " + file + ": not a directory");
    }

    @Test
    void invalidConfigurationIsAUsageErrorOneLinePerProblem() {
        Run r = run("intake", "--data", tmp.resolve("data").toString(), "--durability", "replicated", "--kafka", "none");
        assertOneLine(r, 2, "holdfast intake: invalid configuration: durability: replicated needs the forwarder "
                + "(forwarder.enabled: true and forwarder.kafka not none)");
        Run shipper = run("shipper", "--intake", "nowhere", "--source", "sideways");
        assertEquals(2, shipper.exitCode(), shipper.toString());
        assertTrue(shipper.reportLines().get(0).startsWith("holdfast shipper: invalid configuration: --intake: "),
                shipper.toString());
    }

    @Test
    void debugPrintsTheStackTraceAfterTheSameLine() {
        Path missing = tmp.resolve("missing");
        for (Run r : List.of(run("wal", "verify", "--debug", "--data", missing.toString()),
                run("--debug", "wal", "verify", "--data", missing.toString()))) {
            assertEquals(4, r.exitCode(), r.toString());
            List<String> lines = r.reportLines();
            assertEquals("holdfast wal verify: " + missing + ": no such directory", lines.get(0));
            assertEquals("dev.holdfast.wal.UnusableDirectoryException: " + missing + ": no such directory", lines.get(1));
            assertTrue(lines.get(2).startsWith("\tat dev.holdfast.wal.WalDirectory."), r.report());
        }
    }

    @Test
    void everyCommandAcceptsDebugAndDocumentsItsExitCodes() {
        for (String[] command : List.of(new String[]{"wal", "ls"}, new String[]{"intake"}, new String[]{"shipper"},
                new String[]{"node"}, new String[]{"kafka"}, new String[]{"bench", "disk"})) {
            CommandLine cli = HoldfastCommand.commandLine();
            CommandLine sub = cli;
            for (String name : command) {
                sub = sub.getSubcommands().get(name);
            }
            String help = sub.getUsageMessage();
            assertTrue(help.contains("--debug"), String.join(" ", command) + ": " + help);
            assertTrue(help.contains("Exit codes:") && help.contains(" 4   a file or directory cannot be used"),
                    String.join(" ", command) + ": " + help);
        }
    }
}
