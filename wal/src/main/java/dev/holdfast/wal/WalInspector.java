package dev.holdfast.wal;

import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Read-only operator views of a WAL directory: list segments, verify every record, iterate records. Safe to run
 * while an intake is appending (it opens the queue read-only and takes no lock).
 */
public final class WalInspector implements AutoCloseable {

    public record Verification(long validRecords, long validEvents, long payloadBytes,
                               List<WalReader.Corrupt> corrupt) {
        public boolean ok() {
            return corrupt.isEmpty();
        }
    }

    private final Path dir;
    private final SingleChronicleQueue queue;

    private WalInspector(Path dir, SingleChronicleQueue queue) {
        this.dir = dir;
        this.queue = queue;
    }

    public static WalInspector open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("WAL directory " + dir + " does not exist");
        }
        try (var files = Files.list(dir)) {
            if (files.noneMatch(p -> p.getFileName().toString().endsWith(".cq4"))) {
                throw new IOException("no WAL segments (*.cq4) in " + dir);
            }
        }
        return new WalInspector(dir, ChronicleQueues.openForReading(dir));
    }

    public List<WalSegment> segments() {
        return ChronicleQueues.segments(queue);
    }

    /** Reads every record and checks its checksum and structure. */
    public Verification verify() {
        long[] totals = new long[3];
        List<WalReader.Corrupt> corrupt = new ArrayList<>();
        forEach(null, null, e -> {
            if (e instanceof WalReader.Valid v) {
                totals[0]++;
                totals[1] += v.record().header().eventCount();
                totals[2] += v.record().payload().length;
            } else {
                corrupt.add((WalReader.Corrupt) e);
            }
        });
        return new Verification(totals[0], totals[1], totals[2], corrupt);
    }

    /** Every entry with from <= index <= to (nulls mean unbounded), in order. */
    public void forEach(Long fromIndex, Long toIndex, Consumer<WalReader.Entry> action) {
        try (WalReader reader = new WalReader(queue.createTailer())) {
            reader.toStart();
            if (fromIndex != null) {
                reader.seek(fromIndex);
            }
            WalReader.Entry e;
            while ((e = reader.next()) != null) {
                if (toIndex != null && e.index() > toIndex) break;
                if (fromIndex != null && e.index() < fromIndex) continue;
                action.accept(e);
            }
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        queue.close();
    }
}
