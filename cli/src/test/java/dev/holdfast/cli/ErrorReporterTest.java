package dev.holdfast.cli;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.shipper.ebpf.EbpfUnavailableException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The mapping from a failure to its line and exit code, through picocli as `holdfast` runs it, for failures the
 * real commands cannot be made to throw on demand: a bare AccessDeniedException (what the JDK throws for EACCES;
 * as root the real ones are only reachable without CAP_DAC_OVERRIDE, see CliPermissionDeniedTest), bugs, Errors.
 */
class ErrorReporterTest {

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @Option(names = "--debug")
        boolean debug;
        private final Throwable failure;

        Boom(Throwable failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            if (failure instanceof Exception e) throw e;
            throw (Error) failure;
        }
    }

    record Report(int exitCode, List<String> lines) {
        boolean hasStackTrace() {
            return lines.stream().anyMatch(l -> l.startsWith("\tat "));
        }
    }

    private static Report report(Throwable failure, String... args) {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Boom(failure))
                .setExecutionStrategy(ErrorReporter::execute)
                .setExecutionExceptionHandler(new ErrorReporter())
                .setErr(new PrintWriter(err, true))
                .execute(args);
        return new Report(code, err.toString().lines().toList());
    }

    private static void assertExpected(Throwable failure, int exitCode, String line) {
        Report r = report(failure);
        assertEquals(List.of(line), r.lines());
        assertEquals(exitCode, r.exitCode());
    }

    @Test
    void theJdksBarePathExceptionsGetTheirReasonBack() {
        assertExpected(new AccessDeniedException("/var/lib/holdfast/wal"), 4, "boom: /var/lib/holdfast/wal: permission denied");
        assertExpected(new NoSuchFileException("/data/wal"), 4, "boom: /data/wal: no such file or directory");
        assertExpected(new NotDirectoryException("/etc/passwd"), 4, "boom: /etc/passwd: not a directory");
        assertExpected(new AccessDeniedException("/a", "/b", null), 4, "boom: /a -> /b: permission denied");
    }

    @Test
    void anOperationFailingOnAUsablePathIsAFailureNotAnUnusablePath() {
        assertExpected(new FileSystemException("/data/wal/x.cq4", null, "No space left on device"), 1,
                "boom: /data/wal/x.cq4: No space left on device");
    }

    @Test
    void ioFailuresSayWhereAndWhy() {
        assertExpected(new IOException("Failed to bind to address /0.0.0.0:4317", new BindException("Address already in use")),
                1, "boom: Failed to bind to address /0.0.0.0:4317: Address already in use");
        assertExpected(new UncheckedIOException("cannot listen for HTTP on 0.0.0.0:8080: Address already in use",
                new BindException("Address already in use")), 1, "boom: cannot listen for HTTP on 0.0.0.0:8080: Address already in use");
        assertExpected(new UncheckedIOException(new AccessDeniedException("/x")), 4, "boom: /x: permission denied");
        assertExpected(new IOException("first line\n  second line\n"), 1, "boom: first line; second line");
    }

    @Test
    void operatorErrorsConfigurationAndEbpfKeepTheirCodes() {
        assertExpected(new OperatorError(1, "cannot serve metrics on port 9464: Address already in use", null), 1,
                "boom: cannot serve metrics on port 9464: Address already in use");
        assertExpected(new EbpfUnavailableException("the kernel refused the program: missing CAP_BPF"), 3,
                "boom: eBPF unavailable: the kernel refused the program: missing CAP_BPF (--source fallback runs the "
                        + "degraded inotify source; --source auto picks it when eBPF cannot load)");
        assertExpected(new EbpfUnavailableException("eBPF unavailable: out of memory"), 3, "boom: eBPF unavailable: "
                + "out of memory (--source fallback runs the degraded inotify source; --source auto picks it when eBPF cannot load)");
        Report config = report(new InvalidConfigException(List.of("grpc.port: 70000 is not 0..65535", "durability: \"fsnc\" is not one of written, fsync, replicated")));
        assertEquals(List.of("boom: invalid configuration: grpc.port: 70000 is not 0..65535",
                "boom: invalid configuration: durability: \"fsnc\" is not one of written, fsync, replicated"), config.lines());
        assertEquals(2, config.exitCode());
    }

    @Test
    void expectedFailuresPrintTheirTraceOnlyWithDebug() {
        assertFalse(report(new AccessDeniedException("/x")).hasStackTrace());
        Report debug = report(new AccessDeniedException("/x"), "--debug");
        assertEquals("boom: /x: permission denied", debug.lines().get(0));
        assertEquals("java.nio.file.AccessDeniedException: /x", debug.lines().get(1));
        assertTrue(debug.hasStackTrace(), debug.lines().toString());
        assertEquals(4, debug.exitCode());
    }

    @Test
    void anUnexpectedRuntimeExceptionIsABugWithItsTrace() {
        Report r = report(new IllegalStateException("segment index out of range"));
        assertEquals("boom: internal error (a bug; the stack trace follows): java.lang.IllegalStateException: "
                + "segment index out of range", r.lines().get(0));
        assertTrue(r.hasStackTrace(), r.lines().toString());
        assertEquals(70, r.exitCode());
    }

    @Test
    void anErrorIsABugTooNotAnExitCodeThatMeansDamageFound() {
        Report r = report(new InternalError("a fault occurred in an unsafe memory access operation"));
        assertEquals("boom: internal error (a bug; the stack trace follows): java.lang.InternalError: "
                + "a fault occurred in an unsafe memory access operation", r.lines().get(0));
        assertTrue(r.hasStackTrace(), r.lines().toString());
        assertEquals(70, r.exitCode());
    }
}
