package dev.holdfast.wal;

import net.openhft.chronicle.queue.RollCycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Read-only operator views of a WAL directory: list segments, verify every record, iterate records. Safe to run
 * while an intake is appending (it takes no lock and never maps a file), and on a damaged WAL: it reads segments with
 * {@link SegmentScanner}, so a damaged place is reported and every intact record after it is still read, and a file
 * that is not a segment is reported instead of stopping the tool.
 */
public final class WalInspector implements AutoCloseable {

    /**
     * @param validRecords     records whose checksum and structure are right
     * @param corrupt          every damaged place: a record failing its checks, a byte range skipped, a bad header
     * @param damagedRecords   places that were exactly one record
     * @param damagedHeaders   intact records behind a damaged header (Chronicle's reader stops there until repaired)
     * @param skippedRanges    byte ranges of unknown content skipped to reach the next intact record
     * @param unreadableFiles  files that could not be read as a segment at all, each with the reason
     */
    public record Verification(long validRecords, long validEvents, long payloadBytes,
                               List<WalReader.Corrupt> corrupt, long damagedRecords, long damagedHeaders,
                               long skippedRanges,
                               long skippedBytes, List<String> unreadableFiles, int segments) {
        public boolean ok() {
            return corrupt.isEmpty() && unreadableFiles.isEmpty();
        }
    }

    /** A segment as listed, with what is wrong with it (null when nothing is). */
    public record Listing(WalSegment segment, String problem) {
    }

    private final Path dir;
    private final RollCycle rollCycle;

    private WalInspector(Path dir, RollCycle rollCycle) {
        this.dir = dir;
        this.rollCycle = rollCycle;
    }

    /** Opens a WAL directory for reading; a WAL with no segment yet (a new intake's) simply holds nothing. */
    public static WalInspector open(Path dir) throws IOException {
        WalDirectory.checkReadable(dir);
        return new WalInspector(dir, SegmentFiles.detectRollCycle(dir));
    }

    /** Every segment file, oldest first, with counts from a header walk; damage and unreadable files are named. */
    public List<Listing> list() throws IOException {
        List<Listing> out = new ArrayList<>();
        for (SegmentFiles.Entry f : files()) {
            long size = Files.size(f.path());
            long modified = Files.getLastModifiedTime(f.path()).toMillis();
            if (f.cycle() < 0) {
                out.add(new Listing(new WalSegment(f.name(), -1, -1, 0, 0, size, modified),
                        "name is not a segment of this WAL's roll cycle"));
                continue;
            }
            long first = rollCycle.toIndex(f.cycle(), 0);
            try {
                SegmentScanner.Summary s = new SegmentScanner(f.path(), first).walk(false, new SegmentScanner.Visitor() {
                });
                out.add(new Listing(new WalSegment(f.name(), f.cycle(), first, s.records(), s.end(), size, modified),
                        s.damaged() ? "damaged at byte " + s.firstDamagePosition() + ": " + s.firstDamage() : null));
            } catch (IOException e) {
                out.add(new Listing(new WalSegment(f.name(), f.cycle(), first, 0, 0, size, modified),
                        "unreadable: " + reason(e)));
            }
        }
        return out;
    }

    /** The segments that could be listed (see {@link #list()} for the problems). */
    public List<WalSegment> segments() throws IOException {
        return list().stream().map(Listing::segment).filter(s -> s.cycle() >= 0).toList();
    }

    /** Reads every record of every segment and checks its checksum and structure. */
    public Verification verify() throws IOException {
        return verify(ScanProgress.NONE);
    }

    /** As {@link #verify()}, telling {@code progress} how many bytes of the segment files it has read. */
    public Verification verify(ScanProgress progress) throws IOException {
        long[] totals = new long[3];
        List<WalReader.Corrupt> corrupt = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        long damagedRecords = 0;
        long damagedHeaders = 0;
        long skippedRanges = 0;
        long skippedBytes = 0;
        int segments = 0;
        List<SegmentFiles.Entry> files = files();
        Sizes sizes = new Sizes(files.stream().filter(f -> f.cycle() >= 0).toList(), progress);
        for (SegmentFiles.Entry f : files) {
            if (f.cycle() < 0) {
                unreadable.add(f.name() + ": name is not a segment of this WAL's roll cycle");
                continue;
            }
            segments++;
            try {
                SegmentScanner.Summary s = walk(f, sizes, entry -> {
                    if (entry instanceof WalReader.Valid v) {
                        totals[0]++;
                        totals[1] += v.record().header().eventCount();
                        totals[2] += v.record().payload().length;
                    } else {
                        corrupt.add((WalReader.Corrupt) entry);
                    }
                });
                damagedRecords += s.damagedRecords();
                damagedHeaders += s.damagedHeaders();
                skippedRanges += s.skippedRanges();
                skippedBytes += s.skippedBytes();
            } catch (IOException e) {
                unreadable.add(f.name() + ": " + reason(e));
            }
            sizes.finished(f);
        }
        return new Verification(totals[0], totals[1], totals[2], corrupt, damagedRecords, damagedHeaders,
                skippedRanges, skippedBytes, unreadable, segments);
    }

    /**
     * Every entry with from <= index <= to (nulls mean unbounded), in order. A damaged place is one
     * {@link WalReader.Corrupt} entry; a record whose header alone was damaged is passed on as valid after a
     * Corrupt entry naming the header. Files that cannot be read are skipped (see {@link #verify()}).
     */
    public void forEach(Long fromIndex, Long toIndex, Consumer<WalReader.Entry> action) throws IOException {
        forEach(fromIndex, toIndex, action, ScanProgress.NONE);
    }

    /** As {@link #forEach(Long, Long, Consumer)}, telling {@code progress} how far it has read the files in range. */
    public void forEach(Long fromIndex, Long toIndex, Consumer<WalReader.Entry> action, ScanProgress progress)
            throws IOException {
        List<SegmentFiles.Entry> inRange = new ArrayList<>();
        for (SegmentFiles.Entry f : files()) {
            if (f.cycle() < 0) {
                continue;
            }
            long first = rollCycle.toIndex(f.cycle(), 0);
            long last = rollCycle.toIndex(f.cycle() + 1, 0) - 1;
            if (fromIndex == null || last >= fromIndex) {
                if (toIndex == null || first <= toIndex) {
                    inRange.add(f);
                }
            }
        }
        Sizes sizes = new Sizes(inRange, progress);
        for (SegmentFiles.Entry f : inRange) {
            try {
                walk(f, sizes, e -> {
                    if ((fromIndex == null || e.index() >= fromIndex) && (toIndex == null || e.index() <= toIndex)) {
                        action.accept(e);
                    }
                });
            } catch (IOException e) {
                // an unreadable file holds nothing to hand out; verify names it
            }
            sizes.finished(f);
        }
    }

    /**
     * Progress in bytes of the files a scan reads: their sizes, taken once before it starts, are the total; the
     * position of each record in its file, after the files already read, is how far it has got.
     */
    private static final class Sizes {
        private final java.util.Map<Path, Long> size = new java.util.HashMap<>();
        private final long total;
        private final ScanProgress progress;
        private long before; // bytes of the files already read

        private Sizes(List<SegmentFiles.Entry> files, ScanProgress progress) {
            long sum = 0;
            for (SegmentFiles.Entry f : files) {
                long bytes;
                try {
                    bytes = Files.size(f.path());
                } catch (IOException e) {
                    bytes = 0; // unreadable: it adds nothing to read
                }
                size.put(f.path(), bytes);
                sum += bytes;
            }
            this.total = sum;
            this.progress = progress;
        }

        void at(SegmentFiles.Entry f, long position) {
            progress.scanned(before + Math.min(position, size.getOrDefault(f.path(), 0L)), total);
        }

        void finished(SegmentFiles.Entry f) {
            before += size.getOrDefault(f.path(), 0L);
            progress.scanned(before, total);
        }
    }

    private SegmentScanner.Summary walk(SegmentFiles.Entry f, Sizes sizes, Consumer<WalReader.Entry> action)
            throws IOException {
        long first = rollCycle.toIndex(f.cycle(), 0);
        return new SegmentScanner(f.path(), first).walk(true, new SegmentScanner.Visitor() {
            @Override
            public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                sizes.at(f, position);
                if (headerDamaged) {
                    action.accept(new WalReader.Corrupt(record.index(), f.name(), position,
                            "header marked incomplete, record intact (Chronicle cannot read past it until repaired)"));
                }
                action.accept(new WalReader.Valid(record));
            }

            @Override
            public void damaged(long ordinal, long from, long to, String reason, byte[] raw) {
                sizes.at(f, to);
                action.accept(new WalReader.Corrupt(first + ordinal, f.name(), from, raw != null ? reason
                        : reason + "; skipped bytes " + from + "-" + to));
            }
        });
    }

    private List<SegmentFiles.Entry> files() throws IOException {
        if (rollCycle == null) {
            try (var files = Files.list(dir)) {
                return files.map(Path::getFileName).map(Path::toString).filter(n -> n.endsWith(SegmentFiles.SUFFIX))
                        .sorted().map(n -> new SegmentFiles.Entry(dir.resolve(n), n, -1)).toList();
            }
        }
        return SegmentFiles.list(dir, rollCycle);
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * The WAL index the intake's last checkpoint of agent sequences covers (its start-up replay begins after it), or
     * empty when there is none or it cannot be read.
     */
    public java.util.OptionalLong checkpointCovers() {
        SequenceSnapshots.Loaded loaded = new SequenceSnapshots(dir).load();
        return loaded == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(loaded.coversThroughIndex());
    }

    /** When the checkpoint was last written, in epoch millis, or -1 when there is none yet. */
    public long checkpointModifiedMillis() {
        try {
            return Files.getLastModifiedTime(dir.resolve(SequenceSnapshots.FILE)).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        // nothing held open between calls
    }
}
