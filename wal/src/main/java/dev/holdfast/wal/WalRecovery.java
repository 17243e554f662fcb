package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Start-up recovery. It never waits for Chronicle's lock timeout and never discards a record that could have been
 * acknowledged:
 * <ul>
 *   <li>A record a killed writer left half-written has an incomplete Chronicle header; it was never acknowledged,
 *       readers skip it and the next append reclaims its space.</li>
 *   <li>Records appended after the last checkpoint are replayed into {@link AgentSequences}; corrupt ones (checksum
 *       mismatch) are reported and not counted, so their senders' resends are accepted.</li>
 *   <li>A hole (a truncated or zeroed tail: Chronicle's index knows records that can no longer be read) would strand
 *       every later append behind it. The readable records from the damaged segment onwards are salvaged, the
 *       damaged files are moved to {@code quarantine/}, and the salvaged records are appended again in order.</li>
 * </ul>
 */
public final class WalRecovery {
    private static final Logger log = LoggerFactory.getLogger(WalRecovery.class);

    /** What recovery found and did; printed at start-up and exposed for tests. */
    /**
     * @param repairedFromIndex first index a tail repair renumbered (records from there on have new indices), or -1
     */
    public record Report(long millis, long recordsScanned, boolean fromCheckpoint, List<WalReader.Corrupt> corrupt,
                         int salvagedRecords, String quarantinedTo, long repairedFromIndex) {
        @Override
        public String toString() {
            return String.format("recovered in %d ms, scanned %d records%s, %d corrupt%s", millis, recordsScanned,
                    fromCheckpoint ? " after checkpoint" : "", corrupt.size(),
                    quarantinedTo == null ? "" : ", repaired a damaged tail: " + salvagedRecords
                            + " records salvaged, damaged files in " + quarantinedTo);
        }
    }

    record Result(SingleChronicleQueue queue, AgentSequences sequences, Report report) {
    }

    private record Scan(AgentSequences sequences, long records, boolean fromCheckpoint,
                        List<WalReader.Corrupt> corrupt, long holeIndex) {
    }

    private final WalConfig config;
    private final SequenceSnapshots snapshots;
    private final MappedSegments mapped;

    WalRecovery(WalConfig config, SequenceSnapshots snapshots, MappedSegments mapped) {
        this.config = config;
        this.snapshots = snapshots;
        this.mapped = mapped;
    }

    Result recover() throws IOException {
        long t0 = System.nanoTime();
        SingleChronicleQueue queue = ChronicleQueues.openForWriting(config, mapped);
        Scan scan = scan(queue, snapshots.load());
        int salvaged = 0;
        String quarantined = null;
        long repairedFrom = -1;
        if (scan.holeIndex() >= 0) {
            Path quarantine = config.dir().resolve("quarantine").resolve(Instant.now().toString().replace(':', '-'));
            log.warn("WAL has a hole at index {} (truncated or zeroed segment tail); repairing into {}",
                    Long.toHexString(scan.holeIndex()), quarantine);
            List<WalReader.Corrupt> dropped = new ArrayList<>();
            repairedFrom = queue.rollCycle().toIndex(queue.rollCycle().toCycle(scan.holeIndex()), 0);
            salvaged = repair(queue, scan.holeIndex(), quarantine, dropped);
            quarantined = quarantine.toString();
            snapshots.delete();
            queue = ChronicleQueues.openForWriting(config, mapped);
            List<WalReader.Corrupt> before = new ArrayList<>(scan.corrupt());
            before.addAll(dropped);
            scan = scan(queue, null);
            if (scan.holeIndex() >= 0) {
                queue.close();
                throw new IOException("WAL still has a hole at index " + Long.toHexString(scan.holeIndex())
                        + " after repair; see " + quarantine);
            }
            List<WalReader.Corrupt> all = new ArrayList<>(before);
            all.addAll(scan.corrupt());
            all = all.stream().distinct().toList();
            scan = new Scan(scan.sequences(), scan.records(), false, all, -1);
        }
        for (WalReader.Corrupt c : scan.corrupt()) {
            log.warn("corrupt WAL record: segment {} index {}: {}", c.segment(), Long.toHexString(c.index()), c.reason());
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        return new Result(queue, scan.sequences(),
                new Report(millis, scan.records(), scan.fromCheckpoint(), scan.corrupt(), salvaged, quarantined,
                        repairedFrom));
    }

    private Scan scan(SingleChronicleQueue queue, SequenceSnapshots.Loaded checkpoint) {
        AgentSequences sequences = new AgentSequences();
        boolean fromCheckpoint = false;
        List<WalReader.Corrupt> corrupt = new ArrayList<>();
        long records = 0;
        long lastRead = -1;
        long lastHeaderPosition = -1;
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (checkpoint != null && tailer.moveToIndex(checkpoint.coversThroughIndex())) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (dc.isPresent() && dc.index() == checkpoint.coversThroughIndex()) {
                        sequences = checkpoint.sequences();
                        fromCheckpoint = true;
                        lastRead = dc.index();
                        lastHeaderPosition = dc.wire().bytes().readPosition() - 4;
                    }
                }
            }
            if (!fromCheckpoint) {
                tailer.toStart();
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    records++;
                    lastRead = dc.index();
                    lastHeaderPosition = dc.wire().bytes().readPosition() - 4;
                    String segment = tailer.currentFile().getName();
                    try {
                        WalRecord r = RecordCodec.read(dc.index(), segment, dc.wire().bytes());
                        sequences.add(r.header().agentId(), r.header().batchSeq(), RecordCodec.contentChecksum(r.payload()));
                    } catch (CorruptRecordException e) {
                        corrupt.add(new WalReader.Corrupt(dc.index(), segment, e.getMessage()));
                    }
                }
            }
        }
        long hole = hasHole(queue, lastRead, lastHeaderPosition) ? nextIndex(queue, lastRead) : -1;
        return new Scan(sequences, records, fromCheckpoint, corrupt, hole);
    }

    /**
     * True when Chronicle would append behind records nobody can read. Its write position is the header of the last
     * complete record; if that lies beyond the last record a tailer can reach (or in a later cycle), the bytes in
     * between were truncated or zeroed. A record whose writer was killed mid-append is not such a hole: its header
     * never completed, so the write position still points at the last complete record.
     */
    private static boolean hasHole(SingleChronicleQueue queue, long lastRead, long lastHeaderPosition) {
        if (queue.firstCycle() == Integer.MAX_VALUE) {
            return false; // empty WAL
        }
        RollCycle rc = queue.rollCycle();
        int lastCycle = queue.lastCycle();
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (lastRead < 0 || rc.toCycle(lastRead) < lastCycle) {
                return tailer.excerptsInCycle(lastCycle) > 0 || lastRead < 0 && queue.lastIndex() >= 0;
            }
        }
        SingleChronicleQueueStore store = queue.storeForCycle(lastCycle, queue.epoch(), false, null);
        if (store == null) {
            return false;
        }
        try {
            return store.writePosition() > lastHeaderPosition;
        } finally {
            queue.closeStore(store);
        }
    }

    private static long nextIndex(SingleChronicleQueue queue, long lastRead) {
        RollCycle rc = queue.rollCycle();
        if (lastRead < 0) {
            return rc.toIndex(queue.firstCycle(), 0);
        }
        return rc.toIndex(rc.toCycle(lastRead), rc.toSequenceNumber(lastRead) + 1);
    }

    /**
     * Copies every readable record from the damaged cycle onwards to a side file, moves the damaged segment files
     * (and Chronicle's directory metadata) to quarantine, then appends the copies to a fresh segment. Closes the
     * queue it is given.
     */
    private int repair(SingleChronicleQueue queue, long holeIndex, Path quarantine, List<WalReader.Corrupt> dropped)
            throws IOException {
        RollCycle rc = queue.rollCycle();
        int damagedCycle = rc.toCycle(holeIndex);
        int lastCycle = queue.lastCycle();
        Path salvage = config.dir().resolve("repair.salvage");
        int count = 0;
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(salvage)))) {
            ExcerptTailer tailer = queue.createTailer();
            try {
                for (long cycle : queue.listCyclesBetween(damagedCycle, lastCycle)) {
                    long first = rc.toIndex((int) cycle, 0);
                    long end = tailer.excerptsInCycle((int) cycle);
                    for (long seq = 0; seq < end; seq++) {
                        if (!tailer.moveToIndex(first + seq)) {
                            continue;
                        }
                        try (DocumentContext dc = tailer.readingDocument()) {
                            if (dc.isPresent() && dc.isData() && dc.index() == first + seq) {
                                byte[] raw = new byte[(int) dc.wire().bytes().readRemaining()];
                                dc.wire().bytes().read(raw);
                                String segment = tailer.currentFile().getName();
                                try {
                                    RecordCodec.decode(dc.index(), segment, raw);
                                } catch (CorruptRecordException e) {
                                    // kept in quarantine, reported, not carried into the repaired WAL
                                    dropped.add(new WalReader.Corrupt(dc.index(), segment, e.getMessage()));
                                    continue;
                                }
                                out.writeInt(raw.length);
                                out.write(raw);
                                count++;
                            }
                        }
                    }
                }
            } finally {
                tailer.close();
            }
        }
        // every file of the damaged cycles, including ones with nothing readable
        List<String> damagedFiles = ChronicleQueues.segments(queue).stream()
                .filter(seg -> seg.cycle() >= damagedCycle).map(WalSegment::file).toList();
        queue.close();
        Files.createDirectories(quarantine);
        for (String name : damagedFiles) {
            Path f = config.dir().resolve(name);
            if (Files.exists(f)) {
                Files.move(f, quarantine.resolve(name));
            }
        }
        try (var listing = Files.list(config.dir())) {
            for (Path p : listing.filter(p -> p.getFileName().toString().endsWith(".cq4t")).toList()) {
                Files.move(p, quarantine.resolve(p.getFileName()));
            }
        }
        try (SingleChronicleQueue fresh = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = fresh.createAppender();
             DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(salvage)))) {
            while (true) {
                int len;
                try {
                    len = in.readInt();
                } catch (EOFException eof) {
                    break;
                }
                byte[] raw = in.readNBytes(len);
                try (DocumentContext dc = appender.writingDocument()) {
                    dc.wire().bytes().write(raw);
                }
            }
            appender.sync();
        }
        Files.delete(salvage);
        return count;
    }
}
