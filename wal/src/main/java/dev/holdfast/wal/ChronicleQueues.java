package dev.holdfast.wal;

import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;

import java.nio.file.Path;

/** The one place that knows how Holdfast configures Chronicle Queue. */
final class ChronicleQueues {
    /**
     * How long an appender waits on a header left locked by a dead writer. Holdfast holds an exclusive lock on the
     * WAL directory, so a locked header at start-up can only be a writer killed mid-append: no reason to wait long.
     */
    static final long HEADER_TIMEOUT_MS = 250;

    private ChronicleQueues() {
    }

    static SingleChronicleQueue openForWriting(WalConfig config) {
        return SingleChronicleQueueBuilder.binary(config.dir())
                .rollCycle(rollCycle(config.rollCycle()))
                .blockSize(config.blockSize())
                .timeoutMS(HEADER_TIMEOUT_MS)
                .syncMode(config.fsync() ? SyncMode.SYNC : SyncMode.ASYNC)
                .build();
    }

    static SingleChronicleQueue openForReading(Path dir) {
        return SingleChronicleQueueBuilder.binary(dir).readOnly(true).build();
    }

    static RollCycles rollCycle(String name) {
        try {
            return RollCycles.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown roll cycle " + name);
        }
    }

    /** Bytes used by every segment (up to each one's write position). */
    static long usedBytes(SingleChronicleQueue q) {
        long total = 0;
        if (q.firstCycle() == Integer.MAX_VALUE) {
            return 0;
        }
        for (long cycle : q.listCyclesBetween(q.firstCycle(), q.lastCycle())) {
            SingleChronicleQueueStore store = q.storeForCycle((int) cycle, q.epoch(), false, null);
            if (store != null) {
                try {
                    total += store.writePosition();
                } finally {
                    q.closeStore(store);
                }
            }
        }
        return total;
    }
}
