package dev.holdfast.cli;

import java.util.Set;

/**
 * Chronicle's static initialisation (native libraries through JNA and JNR, CPU affinity probing, and with it Logback's)
 * takes 0.2-0.4 s on this class of machine. {@code main} starts it on a side thread before anything else for the
 * commands that open a WAL, so that it runs while picocli builds the command model and the command reads its
 * configuration and builds its metrics registry; Wal.open() then finds the classes ready instead of waiting for them
 * on a restart's critical path.
 */
final class ChronicleWarmup {
    /** The commands that open a Chronicle queue: the intake's WAL, the shipper's spool, the WAL tools. */
    private static final Set<String> OPENING_A_WAL = Set.of("intake", "node", "shipper", "wal");

    private ChronicleWarmup() {
    }

    /** Starts the warm-up if {@code subcommand} (null: none named) opens a WAL; otherwise does nothing. */
    static void startFor(String subcommand) {
        if (subcommand == null || !OPENING_A_WAL.contains(subcommand)) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                Class.forName("net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder", true,
                        ChronicleWarmup.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // not fatal here: Wal.open() will report the real problem with its own context
            }
        }, "chronicle-warmup");
        t.setDaemon(true);
        t.start();
    }
}
