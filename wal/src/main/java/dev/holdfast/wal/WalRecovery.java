package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Start-up recovery. It never waits for Chronicle's lock timeout, never discards a record that could have been
 * acknowledged, and never lets new appends land behind a record nobody can read:
 * <ul>
 *   <li>Every segment's headers are walked ({@link SegmentScanner}, one read per record, not Chronicle's tailer,
 *       which stops for good at a damaged header): from its {@link WalkMarks mark} when it has one (the part before
 *       the mark was found intact by a walk of an earlier run and its index still matches; {@link SegmentVerifier}
 *       walks it again once the intake is ready), otherwise from its first byte. A segment with damage a reader
 *       would stop at (a flipped "not complete" bit, a garbled length, zeroed or truncated bytes before the writer's
 *       last record) is rewritten by {@link SegmentRepair}: every intact record kept, only the damaged bytes copied
 *       to {@code quarantine/}.</li>
 *   <li>A file with a segment's name that holds no intact record (junk, a zero-length file, not a Chronicle file)
 *       and a file whose name is not a segment of this roll cycle are moved to {@code quarantine/}, named in the
 *       log, and the rest of the WAL opens. An unreadable {@code metadata.cq4t} is moved there too: Chronicle
 *       rebuilds it from the segments.</li>
 *   <li>A record a killed writer left half-written lies beyond the writer's last complete record; it was never
 *       acknowledged, readers skip it and the next append reclaims its space.</li>
 *   <li>Records appended after the last checkpoint are replayed into {@link AgentSequences}; records whose checksum
 *       fails are reported and not counted, so their senders' resends are accepted.</li>
 * </ul>
 */
public final class WalRecovery {
    private static final Logger log = LoggerFactory.getLogger(WalRecovery.class);
    static final String QUARANTINE = "quarantine";
    static final String METADATA = "metadata.cq4t";

    /**
     * One segment rewritten around its damage.
     *
     * @param renumberedFrom    first index whose record may differ from before the repair
     * @param renumberedThrough last index of that cycle: a reader's progress from renumberedFrom to here is void
     */
    public record Repair(String segment, long recordsKept, int damagedPlaces, long renumberedFrom,
                         long renumberedThrough) {
    }

    /**
     * What recovery found and did; printed at start-up, shown on /readyz, exposed for tests.
     *
     * @param corrupt          every damaged place: records failing their checksum and ranges a repair cut out
     * @param quarantinedFiles files moved aside whole (not segments of this WAL, or nothing intact in them)
     * @param quarantinedTo    the quarantine folder of this start, or null when nothing was put there
     * @param headerWalkMillis of {@code millis}, the walk over every segment's headers and any repair it called for
     *                         (the rest is mostly the checksummed scan of the records after the checkpoint)
     * @param segments         segment files found
     * @param walkedFromMark   of those, segments walked only from their mark
     * @param headersWalked    records whose headers the start walked: all of them without marks, only those after
     *                         the marks (from the indexed record before each) with them
     */
    public record Report(long millis, long recordsScanned, boolean fromCheckpoint, List<WalReader.Corrupt> corrupt,
                         List<Repair> repairs, List<String> quarantinedFiles, String quarantinedTo,
                         long headerWalkMillis, int segments, int walkedFromMark, long headersWalked) {
        /** True when this start found damage of any kind. */
        public boolean damaged() {
            return !corrupt.isEmpty() || !repairs.isEmpty() || !quarantinedFiles.isEmpty();
        }

        public long salvagedRecords() {
            return repairs.stream().mapToLong(Repair::recordsKept).sum();
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(String.format("recovered in %d ms (%d headers in %d ms, %d of %d"
                    + " segments from their marks), scanned %d records%s, %d corrupt", millis, headersWalked,
                    headerWalkMillis, walkedFromMark, segments, recordsScanned,
                    fromCheckpoint ? " after checkpoint" : "", corrupt.size()));
            for (Repair r : repairs) {
                b.append(String.format(", repaired segment %s (%d damaged places, %d intact records kept)",
                        r.segment(), r.damagedPlaces(), r.recordsKept()));
            }
            if (!quarantinedFiles.isEmpty()) {
                b.append(", moved aside ").append(String.join(", ", quarantinedFiles));
            }
            if (quarantinedTo != null) {
                b.append(", damaged bytes in ").append(quarantinedTo);
            }
            return b.toString();
        }
    }

    /** @param marks the marks still true after this start (those of repaired or changed segments are gone) */
    record Result(SingleChronicleQueue queue, AgentSequences sequences, Report report,
                  Map<String, WalkMarks.Mark> marks) {
    }

    private record Scan(AgentSequences sequences, long records, boolean fromCheckpoint,
                        List<WalReader.Corrupt> corrupt) {
    }

    private final WalConfig config;
    private final SequenceSnapshots snapshots;
    private final WalkMarks walkMarks;
    private final MappedSegments mapped;
    private final Clock clock;
    private Path quarantine;

    WalRecovery(WalConfig config, SequenceSnapshots snapshots, WalkMarks walkMarks, MappedSegments mapped,
                Clock clock) {
        this.config = config;
        this.snapshots = snapshots;
        this.walkMarks = walkMarks;
        this.mapped = mapped;
        this.clock = clock;
    }

    Result recover() throws IOException {
        long t0 = System.nanoTime();
        RollCycle rc = ChronicleQueues.rollCycle(config.rollCycle());
        List<Repair> repairs = new ArrayList<>();
        List<String> movedAside = new ArrayList<>();
        List<WalReader.Corrupt> damage = new ArrayList<>();
        SegmentRepair repairer = null;
        SegmentRepair.removeLeftovers(config.dir()); // of a repair a crash interrupted: it is redone from the segment
        Map<String, WalkMarks.Mark> marks = walkMarks.load();
        Map<String, WalkMarks.Mark> kept = new TreeMap<>();
        int segments = 0;
        long headersWalked = 0;
        for (SegmentFiles.Entry f : SegmentFiles.list(config.dir(), rc)) {
            if (f.cycle() < 0) {
                moveAside(f.path(), "its name is not a segment of roll cycle " + config.rollCycle(), movedAside);
                continue;
            }
            segments++;
            WalkMarks.Mark mark = marks.get(f.name());
            if (mark != null) {
                SegmentScanner.Summary fromMark = walkFromMark(f, rc, mark);
                headersWalked += fromMark == null ? 0 : fromMark.records();
                if (fromMark != null && !fromMark.damaged()) {
                    kept.put(f.name(), mark);
                    continue;
                }
            }
            SegmentScanner.Summary walk = new SegmentScanner(f.path(), rc.toIndex(f.cycle(), 0))
                    .walk(false, new SegmentScanner.Visitor() { });
            headersWalked += walk.records();
            if (!walk.damaged()) {
                continue;
            }
            if (walk.records() == 0 && !SegmentScanner.hasStoreHeader(f.path())) {
                moveAside(f.path(), Files.size(f.path()) == 0 ? "segment is empty (0 bytes)"
                        : "not a Chronicle segment and no intact record in it", movedAside);
                continue;
            }
            log.warn("WAL segment {} is damaged at byte {} ({}); repairing it", f.name(), walk.firstDamagePosition(),
                    walk.firstDamage());
            if (repairer == null) {
                repairer = new SegmentRepair(config, quarantine());
            }
            SegmentRepair.Result r = repairer.repair(f.path(), f.cycle());
            repairs.add(new Repair(r.segment(), r.recordsKept(), r.damage().size(), r.renumberedFrom(),
                    r.renumberedThrough()));
            damage.addAll(r.damage());
        }
        long walkMillis = (System.nanoTime() - t0) / 1_000_000;
        if (!kept.equals(marks)) {
            walkMarks.save(kept); // a mark that no longer held must not be trusted by a start before the next walk
        }
        boolean changed = !repairs.isEmpty() || !movedAside.isEmpty();
        if (!SegmentFiles.tableStoreReadable(config.dir().resolve(METADATA))) {
            moveAside(config.dir().resolve(METADATA), "unreadable; Chronicle rebuilds it from the segments", movedAside);
        } else if (changed) {
            // Chronicle's directory listing may name files that are gone: rebuilt from the segments as they are now
            moveAside(config.dir().resolve(METADATA), null, new ArrayList<>());
        }
        if (changed) {
            snapshots.delete(); // it may name seqs whose records were cut out
        }
        SingleChronicleQueue queue;
        try {
            queue = ChronicleQueues.openForWriting(config, mapped);
        } catch (RuntimeException e) {
            Path metadata = config.dir().resolve(METADATA);
            if (!Files.exists(metadata)) {
                throw new IOException("cannot open the WAL in " + config.dir() + ": " + e.getMessage(), e);
            }
            log.warn("cannot open the WAL with its {} ({}); rebuilding it from the segments", METADATA, e.toString());
            moveAside(metadata, "Chronicle could not open it: " + e.getMessage(), movedAside);
            queue = ChronicleQueues.openForWriting(config, mapped);
        }
        Scan scan = scan(queue, changed ? null : snapshots.load());
        damage.addAll(scan.corrupt());
        for (WalReader.Corrupt c : damage) {
            log.warn("damaged WAL record: segment {} byte {} index {}: {}", c.segment(), c.position(),
                    Long.toHexString(c.index()), c.reason());
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        return new Result(queue, scan.sequences(), new Report(millis, scan.records(), scan.fromCheckpoint(),
                List.copyOf(damage), List.copyOf(repairs), List.copyOf(movedAside),
                quarantine == null ? null : quarantine.toString(), walkMillis, segments, kept.size(), headersWalked),
                kept);
    }

    /**
     * Whether a segment is intact as far as a start can tell from its mark: the part of Chronicle's index before
     * the mark is as it was when a whole walk checked it, and the headers after the mark lead on intact to the end.
     * Null or a damaged summary sends the segment to a whole walk, which alone decides whether it is damaged.
     */
    private static SegmentScanner.Summary walkFromMark(SegmentFiles.Entry f, RollCycle rc, WalkMarks.Mark mark)
            throws IOException {
        SegmentScanner scanner = new SegmentScanner(f.path(), rc.toIndex(f.cycle(), 0));
        SegmentIndexCheck index = scanner.readIndex();
        if (index == null || index.digest(mark.ordinal()) != mark.indexDigest()) {
            log.info("WAL segment {}: Chronicle's index differs from when it was last walked; walking it whole",
                    f.name());
            return null;
        }
        // From the last indexed record before the mark: finding the end, Chronicle follows headers from there
        SegmentScanner.Indexed indexed = index.indexedAtOrBefore(mark.ordinal());
        WalkMarks.Mark from = indexed == null ? mark
                : new WalkMarks.Mark(indexed.position(), indexed.ordinal(), mark.indexDigest());
        SegmentScanner.Summary s = scanner.walkFrom(from);
        if (s.damaged()) {
            log.info("WAL segment {}: damage at byte {} after its mark ({}); walking it whole", f.name(),
                    s.firstDamagePosition(), s.firstDamage());
        }
        return s;
    }

    /** This start's quarantine folder, made on first use. */
    private Path quarantine() throws IOException {
        if (quarantine == null) {
            quarantine = config.dir().resolve(QUARANTINE).resolve(clock.instant().toString().replace(':', '-'));
            Files.createDirectories(quarantine);
        }
        return quarantine;
    }

    /** Moves a whole file to quarantine; {@code why == null}: quietly (a file that is rebuilt anyway). */
    private void moveAside(Path file, String why, List<String> moved) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        Path target = quarantine().resolve(file.getFileName());
        Files.move(file, target, StandardCopyOption.REPLACE_EXISTING);
        if (why != null) {
            log.warn("moved {} to {}: {}", file.getFileName(), target, why);
            moved.add(file.getFileName() + " (" + why + ")");
        }
    }

    private static Scan scan(SingleChronicleQueue queue, SequenceSnapshots.Loaded checkpoint) {
        AgentSequences sequences = new AgentSequences();
        boolean fromCheckpoint = false;
        List<WalReader.Corrupt> corrupt = new ArrayList<>();
        long records = 0;
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (checkpoint != null && tailer.moveToIndex(checkpoint.coversThroughIndex())) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (dc.isPresent() && dc.index() == checkpoint.coversThroughIndex()) {
                        sequences = checkpoint.sequences();
                        fromCheckpoint = true;
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
                    String segment = tailer.currentFile().getName();
                    long position = dc.wire().bytes().readPosition() - 4;
                    try {
                        WalRecord r = RecordCodec.read(dc.index(), segment, dc.wire().bytes());
                        if (r.header().kind().sequenced()) {
                            sequences.add(r.header().agentId(), r.header().batchSeq(),
                                    RecordCodec.contentChecksum(r.payload()));
                        }
                    } catch (CorruptRecordException e) {
                        corrupt.add(new WalReader.Corrupt(dc.index(), segment, position, e.getMessage()));
                        sequences.forgetDamaged(e.record()); // the checkpoint may have counted it while intact
                    }
                }
            }
        }
        return new Scan(sequences, records, fromCheckpoint, corrupt);
    }

}
