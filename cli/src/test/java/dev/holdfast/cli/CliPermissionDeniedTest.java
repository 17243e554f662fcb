package dev.holdfast.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * "Permission denied" from the real command line on real directories. Root reads and writes regardless of mode
 * bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so when the tests run as root the command runs in a child JVM that
 * is still root but without those two capabilities (setpriv drops them from its bounding set): the bits then bind
 * it as they bind any operator's account. Not root: the child runs as this user, no setpriv needed.
 */
class CliPermissionDeniedTest {
    private static final List<String> WITHOUT_DAC_BYPASS = List.of("setpriv",
            "--bounding-set=-dac_override,-dac_read_search", "--");

    @TempDir
    Path tmp;
    private Path locked;
    private Path readOnly;
    private List<String> prefix;

    @BeforeEach
    void lockDirectories() throws Exception {
        locked = Files.createDirectory(tmp.resolve("locked"));
        readOnly = Files.createDirectory(tmp.resolve("read-only"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        prefix = Files.isReadable(locked) ? WITHOUT_DAC_BYPASS : List.of();
        if (!prefix.isEmpty()) {
            assumeTrue(exitCode(prefixed("true")) == 0, "setpriv is missing or may not drop capabilities here");
            assumeTrue(exitCode(prefixed("ls", locked.toString())) != 0,
                    "root still bypasses the mode bits without CAP_DAC_OVERRIDE here");
        }
    }

    @AfterEach
    void unlock() throws IOException {
        // so that @TempDir can delete them
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void aToolOnADirectoryItMayNotRead() throws Exception {
        assertReport(4, "holdfast wal verify: " + locked + ": permission denied (needs read and search)",
                "wal", "verify", "--data", locked.toString());
        assertReport(4, "holdfast wal ls: " + locked + ": permission denied (needs search to reach " + locked + "/data)",
                "wal", "ls", "--data", locked.resolve("data").toString());
    }

    @Test
    void anIntakeOnADirectoryItMayNotWrite() throws Exception {
        assertReport(4, "holdfast intake: " + readOnly + ": permission denied (needs read, write and search)",
                "intake", "--data", readOnly.toString(), "--kafka", "none", "--grpc-port", "0", "--otlp-http-port", "0", "--http-port", "0");
        assertReport(4, "holdfast intake: " + readOnly + ": permission denied (needs write and search to create "
                        + readOnly + "/data)",
                "intake", "--data", readOnly.resolve("data").toString(), "--kafka", "none", "--grpc-port", "0", "--otlp-http-port", "0",
                "--http-port", "0");
    }

    /**
     * The error report is exactly the expected line; log lines other threads may print meanwhile (Chronicle's
     * warm-up announces itself) are not part of it, and no line is a stack frame.
     */
    private void assertReport(int exitCode, String line, String... args) throws Exception {
        List<String> cmd = prefixed(javaCommand(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished");
        List<String> report = stderr.lines().filter(l -> !l.matches("^\\[[^\\]]+\\] (INFO|WARN|DEBUG) .*")).toList();
        assertEquals(List.of(line), report, stderr);
        assertFalse(stderr.contains("\tat "), stderr);
        assertEquals(exitCode, p.exitValue(), stderr);
    }

    private List<String> prefixed(String... command) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(command));
        return cmd;
    }

    private List<String> prefixed(List<String> command) {
        return prefixed(command.toArray(String[]::new));
    }

    /** The CLI on this test's own class path, with the JVM flags the launcher uses. */
    private static List<String> javaCommand(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(Files.readString(Path.of("target", "jvm.options")).trim().split("\\s+")));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(HoldfastCommand.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** -1 when the command cannot be run at all (not installed) or does not finish. */
    private static int exitCode(List<String> command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        }
    }
}
