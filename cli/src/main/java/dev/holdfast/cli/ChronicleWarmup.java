package dev.holdfast.cli;

/**
 * Chronicle's static initialisation (native libraries through JNA and JNR, CPU affinity probing) takes a few hundred
 * milliseconds on this class of machine. Starting it on a side thread while the command parses its configuration and
 * builds its metrics registry takes that off a restart's critical path; Wal.open() then finds the classes ready.
 */
final class ChronicleWarmup {
    private ChronicleWarmup() {
    }

    static void start() {
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
