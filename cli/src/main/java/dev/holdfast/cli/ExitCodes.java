package dev.holdfast.cli;

import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every exit code of the {@code holdfast} command, in one place. Scripts rely on them (the chaos suite reads
 * {@code wal verify}'s, ShipperIT the shipper's 3), so a code keeps its meaning once given. Also documented in
 * README.md ("Using it") and docs/ARCHITECTURE.md ("The command line"), and shown by every command's --help.
 */
final class ExitCodes {
    /** Done; for {@code wal verify}, every record verified. */
    static final int OK = 0;
    /**
     * {@code wal verify} and {@code wal dump}: damage found (a record, byte range or file that could not be read).
     * Any other command: the work failed for the reason on stderr (an I/O error, a port in use, a WAL held by
     * another process, a broker that would not start).
     */
    static final int FAILED = 1;
    /** A bad option or an invalid configuration: picocli's own code for usage errors, kept for both. */
    static final int USAGE = CommandLine.ExitCode.USAGE;
    /** {@code shipper} or {@code node} asked for eBPF ({@code --source ebpf}) where it cannot load. */
    static final int EBPF_UNAVAILABLE = 3;
    /**
     * A file or directory given cannot be used: missing, not a directory, permission denied, on a pseudo- or
     * read-only file system, not a WAL.
     */
    static final int UNUSABLE_PATH = 4;
    /** A bug: an exception nobody expected. The stack trace is printed. 70 is sysexits.h's EX_SOFTWARE. */
    static final int INTERNAL_ERROR = 70;

    private ExitCodes() {
    }

    /** The table --help shows, code to meaning. */
    static Map<String, String> help() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" " + OK, "done (wal verify: every record verified)");
        codes.put(" " + FAILED, "wal verify/dump: damage found; other commands: failed, the line on stderr says why");
        codes.put(" " + USAGE, "bad option or invalid configuration");
        codes.put(" " + EBPF_UNAVAILABLE, "eBPF unavailable (shipper, node with --source ebpf)");
        codes.put(" " + UNUSABLE_PATH, "a file or directory cannot be used (missing, not a directory, permission "
                + "denied, pseudo- or read-only file system, not a WAL)");
        codes.put(String.valueOf(INTERNAL_ERROR), "internal error (a bug; the stack trace is printed)");
        return codes;
    }
}
