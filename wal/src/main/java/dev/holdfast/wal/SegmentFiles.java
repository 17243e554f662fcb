package dev.holdfast.wal;

import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The segment files of a WAL directory as files on disk, without opening Chronicle (which refuses to start at all
 * when one file is not its own): each {@code *.cq4} with the cycle its name stands for under a roll cycle.
 */
final class SegmentFiles {
    static final String SUFFIX = ".cq4";

    /** @param cycle the cycle the name stands for, or -1 when the name is not one of the roll cycle's */
    record Entry(Path path, String name, int cycle) {
    }

    private SegmentFiles() {
    }

    /** Every {@code *.cq4} file in {@code dir}, oldest cycle first; names that are no cycle come last. */
    static List<Entry> list(Path dir, RollCycle rc) throws IOException {
        List<Entry> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList()) {
                String name = p.getFileName().toString();
                out.add(new Entry(p, name, cycleOf(name, rc)));
            }
        }
        out.sort(Comparator.comparingLong((Entry e) -> e.cycle() < 0 ? Long.MAX_VALUE : e.cycle())
                .thenComparing(Entry::name));
        return out;
    }

    /**
     * The oldest segment whose cycle passes {@code cycle}; empty when none does or the directory cannot be listed
     * (a reader then simply finds nothing more yet).
     */
    static java.util.Optional<Entry> first(Path dir, RollCycle rc, java.util.function.IntPredicate cycle) {
        try {
            return list(dir, rc).stream().filter(e -> e.cycle() >= 0 && cycle.test(e.cycle())).findFirst();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    /** The cycle a segment file name stands for under {@code rc}, or -1. */
    static int cycleOf(String fileName, RollCycle rc) {
        if (!fileName.endsWith(SUFFIX)) {
            return -1;
        }
        String stem = fileName.substring(0, fileName.length() - SUFFIX.length());
        DateTimeFormatter f = formatter(rc);
        try {
            TemporalAccessor t = f.parse(stem);
            long millis = java.time.LocalDateTime.from(t).toInstant(ZoneOffset.UTC).toEpochMilli();
            long cycle = millis / rc.lengthInMillis();
            if (millis % rc.lengthInMillis() != 0 || cycle > Integer.MAX_VALUE
                    || !f.format(java.time.Instant.ofEpochMilli(cycle * rc.lengthInMillis())).equals(stem)) {
                return -1;
            }
            return (int) cycle;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * The roll cycle a directory's segment names were written with, for tools that open a WAL without its
     * configuration: the first known cycle under which every segment name parses, or null.
     */
    static RollCycle detectRollCycle(Path dir) throws IOException {
        List<String> names;
        try (Stream<Path> files = Files.list(dir)) {
            names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX)).toList();
        }
        List<RollCycle> candidates = new ArrayList<>(List.of(RollCycles.values()));
        candidates.add(TestRollCycles.TEST_SECONDLY);
        RollCycle best = null;
        int bestCount = 0;
        for (RollCycle rc : candidates) {
            int count = (int) names.stream().filter(n -> cycleOf(n, rc) >= 0).count();
            if (count > bestCount) {
                best = rc;
                bestCount = count;
            }
        }
        return best;
    }

    private static DateTimeFormatter formatter(RollCycle rc) {
        return new DateTimeFormatterBuilder().appendPattern(rc.format())
                .parseDefaulting(ChronoField.HOUR_OF_DAY, 0)
                .parseDefaulting(ChronoField.MINUTE_OF_HOUR, 0)
                .parseDefaulting(ChronoField.SECOND_OF_MINUTE, 0)
                .toFormatter().withZone(ZoneOffset.UTC);
    }

    /**
     * Whether Chronicle's directory metadata file looks whole: a header document naming STStore, then complete
     * documents each within the file, up to a zero header. Anything else is rebuilt rather than trusted.
     */
    static boolean tableStoreReadable(Path file) throws IOException {
        if (!Files.exists(file)) {
            return true; // Chronicle creates it
        }
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            long size = bytes.size();
            if (size < 8) {
                return false;
            }
            int h = bytes.intAt(0);
            int len = h & SegmentScanner.LENGTH_MASK;
            if ((h & SegmentScanner.END_OF_DATA) != SegmentScanner.META_DATA || len > 4096 || 4 + len > size) {
                return false;
            }
            String header = new String(bytes.read(4, len), StandardCharsets.ISO_8859_1);
            if (!header.contains("STStore")) {
                return false;
            }
            long pos = (4 + len + 3) & ~3L;
            while (pos + 4 <= size) {
                h = bytes.intAt(pos);
                if (h == 0) {
                    return true;
                }
                len = h & SegmentScanner.LENGTH_MASK;
                if ((h & SegmentScanner.NOT_COMPLETE) != 0 || pos + 4 + len > size) {
                    return false;
                }
                pos = (pos + 4 + len + 3) & ~3L;
            }
            return true;
        }
    }
}
