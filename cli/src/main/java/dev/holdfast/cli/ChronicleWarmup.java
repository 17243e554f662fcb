package dev.holdfast.cli;

import java.util.Set;

/**
 * Chronicle's static initialisation takes 0.2-0.4 s on this class of machine, most of it in two libraries it
 * initialises eagerly: JNR generating the native stubs of its POSIX calls (the WAL's msync and madvise), and CPU
 * affinity probing through JNA. {@code main} starts those two on a side thread before anything else, for the commands
 * that open a WAL, so that they run while picocli builds the command model and the command reads its configuration
 * and builds its metrics registry. Wal.open() then finds them ready instead of waiting for them on a restart's
 * critical path.
 *
 * <p>Not Chronicle's own classes: their initialiser logs, and this thread runs before the command has applied its
 * log settings (the flags, then its config file's {@code log} section), so its lines would come out in the default
 * format and level. Neither of the two libraries logs unless it fails.
 */
final class ChronicleWarmup {
    /** The commands that open a Chronicle queue: the intake's WAL, the shipper's spool, the WAL tools. */
    private static final Set<String> OPENING_A_WAL = Set.of("intake", "node", "shipper", "wal");
    /**
     * Options after which a command only prints and exits: the warm-up would be wasted there. It also loads JNA,
     * which has failed to load the library it had just unpacked (seen twice in CI, cause unknown); Affinity's warning
     * about it is now kept out of the output ({@link Logging}).
     */
    private static final Set<String> PRINT_AND_EXIT = Set.of("--version", "-V", "--help", "-h");

    private ChronicleWarmup() {
    }

    /**
     * Starts the warm-up if {@code subcommand} (null: none named) opens a WAL and the command line does not only ask
     * for its version or help; otherwise does nothing.
     *
     * @return whether it started
     */
    static boolean startFor(String subcommand, String... args) {
        if (subcommand == null || !OPENING_A_WAL.contains(subcommand)
                || java.util.Arrays.stream(args).anyMatch(PRINT_AND_EXIT::contains)) {
            return false;
        }
        Thread t = new Thread(() -> {
            try {
                net.openhft.posix.PosixAPI.posix();
                Class.forName("net.openhft.affinity.Affinity", true, ChronicleWarmup.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // not fatal here: Wal.open() will report the real problem with its own context
            }
        }, "chronicle-warmup");
        t.setDaemon(true);
        t.start();
        return true;
    }
}
