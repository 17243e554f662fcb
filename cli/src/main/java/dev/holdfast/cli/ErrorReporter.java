package dev.holdfast.cli;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.shipper.ebpf.EbpfUnavailableException;
import dev.holdfast.wal.UnusableDirectoryException;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;

/**
 * The one place a command's failure becomes what the operator sees: expected conditions (bad paths, I/O errors,
 * invalid configuration, eBPF unavailable, {@link OperatorError}) print one line per problem,
 * {@code holdfast <command>: <what>: <reason>}, and their exit code ({@link ExitCodes}); anything else is a bug and
 * also prints its stack trace. {@code --debug} prints the trace for every failure.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {

    /** What to print and return for one failure. */
    record Failure(int exitCode, List<String> lines, boolean bug) {
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
        Failure failure = classify(e);
        PrintWriter err = command.getErr();
        String prefix = command.getCommandSpec().qualifiedName(" ") + ": ";
        for (String line : failure.lines()) {
            err.println(prefix + line);
        }
        if (failure.bug() || debugRequested(parsed)) {
            e.printStackTrace(err);
        }
        err.flush();
        return failure.exitCode();
    }

    /**
     * The default strategy (run the last subcommand given), except that an {@link Error} thrown by a command
     * reaches {@link #handleExecutionException} too. picocli hands that method only Exceptions; an Error would
     * escape with the JVM's default report and exit code 1, which for {@code wal verify} means "damage found"
     * (an InternalError from a damaged mapped file is one such Error).
     */
    static int execute(ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (Error e) {
            List<CommandLine> given = parsed.asCommandLineList();
            throw new CommandLine.ExecutionException(given.get(given.size() - 1), e.toString(), e);
        }
    }

    static Failure classify(Throwable e) {
        if (e instanceof CommandLine.ExecutionException x && x.getCause() != null) {
            return classify(x.getCause());
        }
        if (e instanceof OperatorError o) {
            return expected(o.exitCode(), o.getMessage());
        }
        if (e instanceof InvalidConfigException c) {
            return new Failure(ExitCodes.USAGE,
                    c.problems().stream().map(p -> "invalid configuration: " + oneLine(p)).toList(), false);
        }
        if (e instanceof dev.holdfast.tls.TlsFileException t) {
            // a certificate, key or CA file that cannot be used: missing, unparseable, expired, key not matching
            return expected(ExitCodes.UNUSABLE_PATH, t.getMessage());
        }
        if (e instanceof EbpfUnavailableException u) {
            String why = u.getMessage().startsWith("eBPF unavailable") ? u.getMessage() : "eBPF unavailable: " + u.getMessage();
            return expected(ExitCodes.EBPF_UNAVAILABLE, why
                    + " (--source fallback runs the degraded inotify source; --source auto picks it when eBPF cannot load)");
        }
        if (e instanceof UncheckedIOException u) {
            // callers that wrap usually say what they were doing ("cannot listen for HTTP on ..."); the cause says
            // which kind of failure it is
            Failure cause = classify(u.getCause());
            return u.getMessage().equals(u.getCause().toString()) ? cause
                    : expected(cause.exitCode(), u.getMessage());
        }
        if (e instanceof FileSystemException f) {
            return expected(unusable(f) ? ExitCodes.UNUSABLE_PATH : ExitCodes.FAILED, describe(f));
        }
        if (e instanceof IOException io) {
            return expected(ExitCodes.FAILED, withCause(io));
        }
        return new Failure(ExitCodes.INTERNAL_ERROR, List.of("internal error (a bug; the stack trace follows): " + e),
                true);
    }

    /**
     * Some wrappers leave the reason to their cause: gRPC's "Failed to bind to address /0.0.0.0:4317" says where,
     * its BindException says why ("Address already in use").
     */
    private static String withCause(IOException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
            message += ": " + cause.getMessage();
        }
        return message;
    }

    private static Failure expected(int exitCode, String message) {
        return new Failure(exitCode, List.of(oneLine(message)), false);
    }

    /** The path given cannot be used at all, as opposed to an operation on it failing (a full disk, say). */
    private static boolean unusable(FileSystemException f) {
        return f instanceof UnusableDirectoryException || f instanceof AccessDeniedException
                || f instanceof NoSuchFileException || f instanceof NotDirectoryException;
    }

    /**
     * {@code FILE[ -> OTHER]: REASON}. The JDK leaves the reason out of the commonest ones (an
     * AccessDeniedException's message is the bare path): the type says it, so it is put back.
     */
    static String describe(FileSystemException f) {
        String what = f.getFile() == null ? "" : f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
        String reason = f.getReason() != null ? f.getReason() : reasonOf(f);
        return what.isEmpty() ? reason : what + ": " + reason;
    }

    private static String reasonOf(FileSystemException f) {
        if (f instanceof AccessDeniedException) return "permission denied";
        if (f instanceof NoSuchFileException) return "no such file or directory";
        if (f instanceof NotDirectoryException) return "not a directory";
        if (f instanceof FileAlreadyExistsException) return "already exists";
        if (f instanceof DirectoryNotEmptyException) return "directory not empty";
        return f.getClass().getSimpleName();
    }

    /** Messages from libraries sometimes span lines; the operator gets one per problem. */
    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** --debug is inherited by every subcommand, so it may have been given at any level of the command line. */
    private static boolean debugRequested(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }
}
