package dev.holdfast.wal;

import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.StoreFileListener;
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
        return openForWriting(config, StoreFileListener.noOp());
    }

    static SingleChronicleQueue openForWriting(WalConfig config, StoreFileListener files) {
        return SingleChronicleQueueBuilder.binary(config.dir())
                .storeFileListener(files)
                .rollCycle(rollCycle(config.rollCycle()))
                .blockSize(config.blockSize())
                .timeoutMS(HEADER_TIMEOUT_MS)
                .syncMode(config.fsync() ? SyncMode.SYNC : SyncMode.ASYNC)
                .build();
    }

    static SingleChronicleQueue openForReading(Path dir) {
        return SingleChronicleQueueBuilder.binary(dir).readOnly(true).build();
    }

    /** A production roll cycle by name; TEST_SECONDLY also, so tests can see segments roll and be retired. */
    static net.openhft.chronicle.queue.RollCycle rollCycle(String name) {
        if (name.equals("TEST_SECONDLY")) {
            return net.openhft.chronicle.queue.rollcycles.TestRollCycles.TEST_SECONDLY;
        }
        try {
            return RollCycles.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown roll cycle " + name);
        }
    }

    /** Every segment of the queue, oldest first. */
    static java.util.List<WalSegment> segments(SingleChronicleQueue q) {
        java.util.List<WalSegment> out = new java.util.ArrayList<>();
        if (q.firstCycle() == Integer.MAX_VALUE) {
            return out;
        }
        net.openhft.chronicle.queue.RollCycle rc = q.rollCycle();
        try (var tailer = q.createTailer()) {
            for (long cycle : q.listCyclesBetween(q.firstCycle(), q.lastCycle())) {
                SingleChronicleQueueStore store = q.storeForCycle((int) cycle, q.epoch(), false, null);
                if (store == null) continue;
                try {
                    java.io.File f = store.file();
                    out.add(new WalSegment(f.getName(), (int) cycle, rc.toIndex((int) cycle, 0),
                            tailer.excerptsInCycle((int) cycle), store.writePosition(), f.length(), f.lastModified()));
                } finally {
                    q.closeStore(store);
                }
            }
        }
        return out;
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
