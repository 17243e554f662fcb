package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.holdfast.wal.WalTestSupport.flipBit;
import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.overwrite;
import static dev.holdfast.wal.WalTestSupport.payload;
import static dev.holdfast.wal.WalTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Real WAL files damaged the way disks and people damage them: each case writes acknowledged batches, damages the
 * segment at rest, and proves that every record outside the damaged bytes is still read (by the tools before a
 * restart, by Chronicle's reader after it), that the damaged ones are named, and that the reopened WAL takes new
 * batches that readers see. The randomized test runs {@code holdfast.damage.cases} seeded cases (200 by default; the
 * seed is printed and can be replayed with {@code -Dholdfast.damage.seed=N}).
 */
class WalDamageTest {
    @TempDir
    Path tmp;

    /** One record as written: where it sits in its segment and what it holds. */
    record Placed(String agent, long seq, byte[] payload, String segment, long from, long to, long index) {
        String key() {
            return agent + "#" + seq;
        }
    }

    /** What a case did to the files: byte ranges of one segment, or whole-file damage. */
    record Damage(String description, String segment, List<long[]> ranges, boolean destroysWholeSegment) {
        boolean overlaps(Placed p) {
            if (!p.segment().equals(segment)) {
                return false;
            }
            if (destroysWholeSegment) {
                return true;
            }
            for (long[] r : ranges) {
                if (r[0] < p.to() && p.from() < r[1]) {
                    return true;
                }
            }
            return false;
        }
    }

    private WalConfig config(Path dir) {
        return WalConfig.defaults(dir, false);
    }

    // ---- named cases from the issue -------------------------------------------------------------------------

    @Test
    void aFlippedIncompleteBitMidSegmentHidesNothingAndLosesNothing() throws Exception {
        Path dir = tmp.resolve("wal");
        List<Placed> placed = write(dir, new Random(1), 3000, 60, 200);
        Placed victim = placed.get(1500);
        flipBit(dir.resolve(victim.segment()), victim.from() + 3, 7); // bit 31 of the little-endian header
        Damage none = new Damage("flipped not-complete bit", victim.segment(), List.of(), false);
        try (WalInspector inspector = WalInspector.open(dir)) {
            WalInspector.Verification v = inspector.verify();
            assertFalse(v.ok(), "a header Chronicle cannot pass is damage");
            assertEquals(3000, v.validRecords(), "the record behind the flag and all 1,499 after it are read");
            assertEquals(1, v.damagedHeaders());
            assertEquals(0, v.damagedRecords());
            assertEquals(victim.from(), v.corrupt().get(0).position());
        }
        reopenAndCheck(dir, placed, none, new Random(2));
    }

    @Test
    void aRandomBlockMidSegmentNamesItsRecordsAndKeepsTheThousandsAfterIt() throws Exception {
        Path dir = tmp.resolve("wal");
        List<Placed> placed = write(dir, new Random(3), 8000, 60, 200);
        Placed at = placed.get(800);
        byte[] junk = new byte[4096];
        new Random(4).nextBytes(junk);
        overwrite(dir.resolve(at.segment()), at.from() + 17, junk);
        Damage block = new Damage("4 KiB random block", at.segment(), List.of(new long[]{at.from() + 17,
                at.from() + 17 + 4096}), false);
        int destroyed = (int) placed.stream().filter(block::overlaps).count();
        try (WalInspector inspector = WalInspector.open(dir)) {
            WalInspector.Verification v = inspector.verify();
            assertFalse(v.ok());
            assertTrue(v.validRecords() >= 8000 - destroyed, v.validRecords() + " valid of " + (8000 - destroyed));
            assertTrue(v.validRecords() > 7000, "the 7,000+ records after the block are read");
        }
        reopenAndCheck(dir, placed, block, new Random(5));
    }

    @Test
    void aSegmentTruncatedToZeroIsDamageAndTheIntakeStillOpens() throws Exception {
        Path dir = tmp.resolve("wal");
        List<Placed> placed = write(dir, new Random(6), 50, 60, 300);
        Path segment = dir.resolve(placed.get(0).segment());
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(0);
        }
        try (WalInspector inspector = WalInspector.open(dir)) {
            WalInspector.Verification v = inspector.verify();
            assertFalse(v.ok(), "an empty segment is damage, not '0 records'");
            assertEquals(0, v.validRecords());
        }
        Damage all = new Damage("truncated to 0", segment.getFileName().toString(), List.of(), true);
        WalRecovery.Report report = reopenAndCheck(dir, placed, all, new Random(7));
        assertTrue(report.quarantinedFiles().stream().anyMatch(f -> f.contains("empty")), report.toString());
    }

    @Test
    void junkWithASegmentNameAndAMisnamedFileAreMovedAsideAndTheRestOpens() throws Exception {
        Path dir = tmp.resolve("wal");
        List<Placed> placed = write(dir, new Random(8), 100, 60, 300);
        Path junk = dir.resolve("20200101-00F.cq4"); // a FAST_HOURLY name, another cycle
        byte[] bytes = new byte[70_000];
        new Random(9).nextBytes(bytes);
        Files.write(junk, bytes);
        Files.writeString(dir.resolve("notes.cq4"), "not a segment\n");
        try (WalInspector inspector = WalInspector.open(dir)) {
            WalInspector.Verification v = inspector.verify();
            assertFalse(v.ok());
            assertEquals(100, v.validRecords(), "the real segment is still read");
            assertTrue(v.unreadableFiles().stream().anyMatch(f -> f.startsWith("notes.cq4")), v.unreadableFiles().toString());
        }
        WalRecovery.Report report = reopenAndCheck(dir, placed, new Damage("junk", "none", List.of(), false),
                new Random(10));
        assertEquals(2, report.quarantinedFiles().size(), report.toString());
        assertTrue(Files.exists(Path.of(report.quarantinedTo()).resolve("20200101-00F.cq4")));
        assertFalse(Files.exists(junk));
    }

    @Test
    void aCorruptMetadataFileIsRebuiltFromTheSegments() throws Exception {
        Path dir = tmp.resolve("wal");
        List<Placed> placed = write(dir, new Random(11), 100, 60, 300);
        byte[] garbage = new byte[4096];
        new Random(12).nextBytes(garbage);
        overwrite(dir.resolve(WalRecovery.METADATA), 0, garbage);
        WalRecovery.Report report = reopenAndCheck(dir, placed, new Damage("metadata", "none", List.of(), false),
                new Random(13));
        assertTrue(report.quarantinedFiles().stream().anyMatch(f -> f.startsWith(WalRecovery.METADATA)),
                report.toString());
    }

    // ---- damage under a running intake -------------------------------------------------------------------------

    @Test
    void aReaderTailingTheWalReadsPastDamageThatAppearsWhileItRuns() throws Exception {
        Path dir = tmp.resolve("wal");
        try (Wal wal = Wal.open(config(dir), CommitListener.NONE)) {
            for (long seq = 1; seq <= 600; seq++) {
                wal.append(header("live", seq, BatchPriority.NORMAL), payload("live", seq, 150)).get(10, TimeUnit.SECONDS);
            }
            List<long[]> positions = new ArrayList<>(); // {seq, from, to}
            Path segment;
            try (var files = Files.list(dir)) {
                segment = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
            }
            new SegmentScanner(segment, 0).walk(true, new SegmentScanner.Visitor() {
                @Override
                public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                    positions.add(new long[]{record.header().batchSeq(), position, position + 4 + raw.length});
                }
            });
            // while the WAL is open and being read: a flipped flag on record 200, a random block from inside 400
            flipBit(segment, positions.get(199)[1] + 3, 7);
            byte[] junk = new byte[1000];
            new Random(21).nextBytes(junk);
            long blockAt = positions.get(399)[1] + 20;
            overwrite(segment, blockAt, junk);
            Set<Long> destroyed = new HashSet<>();
            for (long[] p : positions) {
                if (p[1] < blockAt + junk.length && blockAt < p[2]) destroyed.add(p[0]);
            }
            for (long seq = 601; seq <= 650; seq++) {
                wal.append(header("live", seq, BatchPriority.NORMAL), payload("live", seq, 150)).get(10, TimeUnit.SECONDS);
            }
            Set<Long> read = new HashSet<>();
            int corrupt = 0;
            try (WalReader reader = wal.newReader()) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (read.size() < 650 - destroyed.size() && System.nanoTime() < deadline) {
                    WalReader.Entry e = reader.next(100);
                    if (e instanceof WalReader.Valid v) {
                        assertTrue(read.add(v.record().header().batchSeq()), "read twice: " + v.index());
                        assertArrayEquals(payload("live", v.record().header().batchSeq(), 150), v.record().payload());
                    } else if (e instanceof WalReader.Corrupt) {
                        corrupt++;
                    }
                }
                for (long seq = 1; seq <= 650; seq++) {
                    assertTrue(read.contains(seq) || destroyed.contains(seq), "record " + seq + " never read");
                }
                assertTrue(corrupt >= 1, "the damaged block is reported");
                // past the block the reader numbers records itself: what waits on an index there is told so
                long first = ((WalReader.Valid) readAll(wal).get(0)).index();
                assertFalse(wal.numberingDiverged(first), "before the damaged range, indices are the writer's");
                assertTrue(wal.numberingDiverged(wal.lastIndex()), "after it, they may not be");
                // the writer goes on appending behind the damage, and the reader goes on reading
                for (long seq = 651; seq <= 660; seq++) {
                    wal.append(header("live", seq, BatchPriority.NORMAL), payload("live", seq, 150)).get(10, TimeUnit.SECONDS);
                }
                long deadline2 = System.nanoTime() + 10_000_000_000L;
                while (!read.contains(660L) && System.nanoTime() < deadline2) {
                    WalReader.Entry e = reader.next(100);
                    if (e instanceof WalReader.Valid v) {
                        read.add(v.record().header().batchSeq());
                    }
                }
                for (long seq = 651; seq <= 660; seq++) {
                    assertTrue(read.contains(seq), "record " + seq + " appended after the damage never read");
                }
            }
        }
    }

    @Test
    void aGarbledLengthUnderARunningReaderCostsNoGiantCopyAndHidesNothing() throws Exception {
        Path dir = tmp.resolve("wal");
        try (Wal wal = Wal.open(config(dir), CommitListener.NONE)) {
            for (long seq = 1; seq <= 300; seq++) {
                wal.append(header("len", seq, BatchPriority.NORMAL), payload("len", seq, 150)).get(10, TimeUnit.SECONDS);
            }
            Path segment;
            try (var files = Files.list(dir)) {
                segment = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
            }
            List<Long> positions = new ArrayList<>();
            new SegmentScanner(segment, 0).walk(true, new SegmentScanner.Visitor() {
                @Override
                public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean h) {
                    positions.add(position);
                }
            });
            // record 100's header now claims 60 MB (within the preallocated file): a reader that believed it would
            // copy 60 MB per damaged header and land far beyond the records after it
            byte[] header = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putInt(60 << 20).array();
            overwrite(segment, positions.get(99), header);
            Set<Long> read = new HashSet<>();
            long allocatedBefore = allocatedBytes();
            try (WalReader reader = wal.newReader()) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (read.size() < 299 && System.nanoTime() < deadline) {
                    if (reader.next(100) instanceof WalReader.Valid v) {
                        read.add(v.record().header().batchSeq());
                    }
                }
            }
            long allocated = allocatedBytes() - allocatedBefore;
            for (long seq = 1; seq <= 300; seq++) {
                assertTrue(read.contains(seq) || seq == 100, "record " + seq + " never read");
            }
            assertTrue(allocated < (40L << 20), "reading 300 small records allocated " + allocated + " bytes");
        }
    }

    /** Bytes this thread has allocated so far (HotSpot's per-thread counter). */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void divergedNumberingIsTrackedPerSegment() throws Exception {
        Path dir = tmp.resolve("wal");
        WalConfig cfg = new WalConfig(dir, false, 0, 1 << 20, "TEST_SECONDLY", 1L << 20,
                WalConfig.defaults(dir, false).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            long seq = 0;
            List<Long> firstOfSegment = new ArrayList<>();
            List<Long> lastOfSegment = new ArrayList<>();
            for (int segment = 0; segment < 2; segment++) {
                // TEST_SECONDLY: each segment's 60 batches start just after a second begins, so that they all go
                // into one segment however long the appends take on a busy machine (up to most of a second)
                Thread.sleep(1000 - System.currentTimeMillis() % 1000 + 20);
                for (int i = 0; i < 60; i++) {
                    long index = wal.append(header("p", ++seq, BatchPriority.NORMAL), payload("p", seq, 150))
                            .get(10, TimeUnit.SECONDS).index();
                    if (i == 0) firstOfSegment.add(index);
                    if (i == 59) lastOfSegment.add(index);
                }
            }
            List<Path> segments;
            try (var files = Files.list(dir)) {
                segments = files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
            }
            assertEquals(2, segments.size(), segments.toString());
            // a byte range garbled in the middle of each segment, while the WAL is open
            for (Path segment : segments) {
                List<Long> positions = new ArrayList<>();
                new SegmentScanner(segment, 0).walk(true, new SegmentScanner.Visitor() {
                    @Override
                    public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean h) {
                        positions.add(position);
                    }
                });
                byte[] junk = new byte[700];
                new Random(31).nextBytes(junk);
                overwrite(segment, positions.get(30) + 20, junk);
            }
            // the reader's own numbering must be known to diverge in the newest segment too, not only in the older
            // one whose damage it met first
            try (WalReader reader = wal.newReader()) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (System.nanoTime() < deadline) {
                    WalReader.Entry e = reader.next(100);
                    if (e instanceof WalReader.Valid v && v.record().header().batchSeq() == seq) break;
                }
            }
            assertFalse(wal.numberingDiverged(firstOfSegment.get(0)));
            assertFalse(wal.numberingDiverged(firstOfSegment.get(1)));
            assertTrue(wal.numberingDiverged(lastOfSegment.get(0)), "older segment, after its damage");
            assertTrue(wal.numberingDiverged(lastOfSegment.get(1)), "newest segment, after its damage");
        }
    }

    // ---- randomized loss-finder ---------------------------------------------------------------------------

    @Test
    void randomizedDamageNeverHidesAnIntactRecordNorLosesOneOutsideTheDamage() throws Exception {
        int cases = Integer.getInteger("holdfast.damage.cases", 200);
        long seed = Long.getLong("holdfast.damage.seed", System.nanoTime());
        System.out.printf("WalDamageTest: %d cases, seed %d (-Dholdfast.damage.seed=%d to replay)%n", cases, seed, seed);
        Random seeds = new Random(seed);
        Map<String, Integer> kinds = new HashMap<>();
        Long only = Long.getLong("holdfast.damage.case-seed");
        for (int c = 0; c < (only != null ? 1 : cases); c++) {
            long caseSeed = only != null ? only : seeds.nextLong();
            Random rnd = new Random(caseSeed);
            Path dir = tmp.resolve("case-" + c);
            boolean marked = rnd.nextBoolean();
            List<Placed> placed = write(dir, rnd, 20 + rnd.nextInt(300), 40, 40 + rnd.nextInt(3000));
            if (marked) {
                markEverySegment(dir);
            }
            Damage damage = damage(dir, placed, rnd);
            kinds.merge(damage.description().split(" ")[0] + (marked ? "(marked)" : ""), 1, Integer::sum);
            try {
                checkToolsSeeEverythingIntact(dir, placed, damage);
                WalRecovery.Report first = marked ? startFromMarksAndFindTheDamage(dir, placed, damage) : null;
                reopenAndCheck(dir, placed, damage, rnd, first);
            } catch (AssertionError | Exception e) {
                throw new AssertionError("case " + c + " (seed " + caseSeed + "): " + damage.description()
                        + (marked ? ", behind walk marks" : "") + ": " + e.getMessage(), e);
            }
            SegmentRepair.deleteTree(dir);
        }
        System.out.println("WalDamageTest: cases by kind " + kinds);
    }

    /** Damages one segment at rest in one of the ways bit rot, bad sectors and operators do. */
    private static Damage damage(Path dir, List<Placed> placed, Random rnd) throws IOException {
        Placed some = placed.get(rnd.nextInt(placed.size()));
        Path file = dir.resolve(some.segment());
        long dataStart = placed.stream().filter(p -> p.segment().equals(some.segment())).mapToLong(Placed::from).min()
                .orElseThrow();
        long dataEnd = placed.stream().filter(p -> p.segment().equals(some.segment())).mapToLong(Placed::to).max()
                .orElseThrow();
        long span = dataEnd - dataStart;
        String seg = some.segment();
        switch (rnd.nextInt(9)) {
            case 0 -> {
                flipBit(file, some.from() + 3, 7);
                return new Damage("flag: not-complete bit of record " + some.key(), seg, List.of(), false);
            }
            case 1 -> {
                long at = some.from() + rnd.nextInt((int) (some.to() - some.from()));
                flipBit(file, at, rnd.nextInt(8));
                return new Damage("bit: flipped at byte " + at, seg, List.of(new long[]{at, at + 1}), false);
            }
            case 2 -> {
                long at = dataStart + (long) (rnd.nextDouble() * span);
                byte[] junk = new byte[4096];
                rnd.nextBytes(junk);
                overwrite(file, at, junk);
                return new Damage("block: 4 KiB random at byte " + at, seg, List.of(new long[]{at, at + 4096}), false);
            }
            case 3 -> {
                long at = dataStart + (long) (rnd.nextDouble() * span);
                int len = 1 + rnd.nextInt(20_000);
                overwrite(file, at, new byte[len]);
                return new Damage("zeros: " + len + " at byte " + at, seg, List.of(new long[]{at, at + len}), false);
            }
            case 4 -> {
                long at = dataStart + (long) (rnd.nextDouble() * span);
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(at);
                }
                return new Damage("truncate: to " + at, seg, List.of(new long[]{at, Long.MAX_VALUE}), false);
            }
            case 5 -> {
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(0);
                }
                return new Damage("empty: truncated to 0", seg, List.of(), true);
            }
            case 6 -> {
                List<long[]> ranges = new ArrayList<>();
                for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
                    long at = dataStart + (long) (rnd.nextDouble() * span);
                    byte[] junk = new byte[1 + rnd.nextInt(600)];
                    rnd.nextBytes(junk);
                    overwrite(file, at, junk);
                    ranges.add(new long[]{at, at + junk.length});
                }
                return new Damage("scattered: " + ranges.size() + " random ranges", seg, ranges, false);
            }
            case 7 -> {
                // Chronicle's own metadata: the file header and the index arrays before the first record
                long at = (long) (rnd.nextDouble() * (dataStart - 64));
                byte[] junk = new byte[1 + rnd.nextInt(4096)];
                rnd.nextBytes(junk);
                overwrite(file, at, junk);
                return new Damage("index: " + junk.length + " random bytes at byte " + at + " (file header, index)",
                        seg, List.of(new long[]{at, at + junk.length}), false);
            }
            default -> {
                byte[] junk = new byte[1 + rnd.nextInt(100_000)];
                rnd.nextBytes(junk);
                Files.write(dir.resolve("20200101-0" + rnd.nextInt(10) + "F.cq4"), junk);
                return new Damage("junk: a " + junk.length + "-byte file named like a segment", "none", List.of(),
                        false);
            }
        }
    }

    /** As a running intake does: the background walk marks every segment intact (before the damage). */
    private void markEverySegment(Path dir) throws Exception {
        try (Wal wal = Wal.open(config(dir), CommitListener.NONE)) {
            wal.verifier().pass();
        }
        assertFalse(new WalkMarks(dir).load().isEmpty(), "marks written");
    }

    /**
     * A start that trusts the marks may leave damage behind a mark for later, but never hides an intact record
     * from a reader nor sends a seek by index astray, and whatever a whole walk would find, the start or the
     * background walk that follows it finds, so that the next start repairs it.
     */
    private static WalRecovery.Report startFromMarksAndFindTheDamage(Path dir, List<Placed> placed, Damage damage)
            throws Exception {
        var rc = ChronicleQueues.rollCycle("FAST_HOURLY");
        boolean wholeWalkFindsIt = false;
        for (SegmentFiles.Entry f : SegmentFiles.list(dir, rc)) {
            wholeWalkFindsIt |= f.cycle() < 0 || new SegmentScanner(f.path(), rc.toIndex(f.cycle(), 0))
                    .walk(false, new SegmentScanner.Visitor() { }).damaged();
        }
        try (Wal wal = Wal.open(WalConfig.defaults(dir, false), CommitListener.NONE)) {
            WalRecovery.Report report = wal.recovery();
            Set<String> seen = new HashSet<>();
            List<WalReader.Valid> valid = new ArrayList<>();
            for (WalReader.Entry e : readAll(wal)) {
                if (e instanceof WalReader.Valid v) {
                    seen.add(v.record().header().agentId() + "#" + v.record().header().batchSeq());
                    valid.add(v);
                }
            }
            Random rnd = new Random(placed.size());
            valid.removeIf(v -> wal.numberingDiverged(v.index())); // numbered past damage of unknown extent
            for (int i = 0; i < 3 && !valid.isEmpty(); i++) {
                // a seek by index (the forwarder's resume) lands where a reader reading in order numbered it
                WalReader.Valid target = valid.get(rnd.nextInt(valid.size()));
                try (WalReader r = wal.newReader()) {
                    assertTrue(r.seek(target.index()), "seek to " + Long.toHexString(target.index()));
                    WalReader.Entry got = r.next();
                    assertTrue(got instanceof WalReader.Valid v && v.record().header().equals(target.record().header()),
                            "seek to " + Long.toHexString(target.index()) + " found " + got + ", not " + target);
                }
            }
            for (Placed p : placed) {
                assertTrue(damage.overlaps(p) || seen.contains(p.key()), "intact record " + p.key()
                        + " hidden after a start from marks; " + report);
            }
            wal.verifier().pass();
            assertTrue(!wholeWalkFindsIt || report.damaged() || !wal.damagedSegments().isEmpty(),
                    "damage a whole walk finds was found neither by the start nor by the background walk; " + report);
            return report;
        }
    }

    /** What two starts found between them, as one report: the damage either named and the repairs either made. */
    private static WalRecovery.Report combined(WalRecovery.Report earlier, WalRecovery.Report now) {
        if (earlier == null) {
            return now;
        }
        List<WalReader.Corrupt> corrupt = new ArrayList<>(earlier.corrupt());
        corrupt.addAll(now.corrupt());
        List<WalRecovery.Repair> repairs = new ArrayList<>(earlier.repairs());
        repairs.addAll(now.repairs());
        List<String> moved = new ArrayList<>(earlier.quarantinedFiles());
        moved.addAll(now.quarantinedFiles());
        return new WalRecovery.Report(now.millis(), now.recordsScanned(), now.fromCheckpoint(), corrupt, repairs,
                moved, now.quarantinedTo(), now.headerWalkMillis(), now.segments(), now.walkedFromMark(), now.headersWalked());
    }

    /** Before any restart, the tools read every record outside the damage and name the damage. */
    private static void checkToolsSeeEverythingIntact(Path dir, List<Placed> placed, Damage damage) throws IOException {
        Map<String, Placed> byKey = index(placed);
        Set<String> seen = new HashSet<>();
        try (WalInspector inspector = WalInspector.open(dir)) {
            inspector.forEach(null, null, e -> {
                if (e instanceof WalReader.Valid v) {
                    WalRecord r = v.record();
                    String key = r.header().agentId() + "#" + r.header().batchSeq();
                    Placed p = byKey.get(key);
                    assertNotNull(p, "a record nobody wrote: " + key);
                    assertArrayEquals(p.payload(), r.payload(), key);
                    seen.add(key);
                }
            });
            for (Placed p : placed) {
                if (!damage.overlaps(p)) {
                    assertTrue(seen.contains(p.key()), "intact record " + p.key() + " at " + p.from() + "-" + p.to()
                            + " hidden from the tools");
                }
            }
            boolean changed = placed.stream().anyMatch(p -> !seen.contains(p.key()))
                    || damage.description().startsWith("flag") || damage.description().startsWith("junk");
            if (changed) {
                assertFalse(inspector.verify().ok(), "verify must fail on " + damage.description());
            }
        }
    }

    /**
     * Reopens the WAL (recovery repairs it), then: every record outside the damage is read by Chronicle's reader,
     * nothing is invented, a destroyed batch's resend is written and an intact one's is a duplicate, new batches are
     * read back after everything else, and the tools find no damage left.
     */
    private WalRecovery.Report reopenAndCheck(Path dir, List<Placed> placed, Damage damage, Random rnd)
            throws Exception {
        return reopenAndCheck(dir, placed, damage, rnd, null);
    }

    /** @param earlier what a start before this one found and repaired (a start from marks), or null */
    private WalRecovery.Report reopenAndCheck(Path dir, List<Placed> placed, Damage damage, Random rnd,
                                              WalRecovery.Report earlier) throws Exception {
        Map<String, Placed> byKey = index(placed);
        WalRecovery.Report report;
        try (Wal wal = Wal.open(config(dir), CommitListener.NONE)) {
            report = combined(earlier, wal.recovery());
            Set<String> seen = new HashSet<>();
            Set<Long> corruptAt = new HashSet<>();
            List<WalReader.Entry> entries = readAll(wal);
            if (!entries.isEmpty()) {
                // the forwarder seeks by index (Chronicle's index arrays): a damaged index must not send it astray
                WalReader.Entry target = entries.get(rnd.nextInt(entries.size()));
                try (WalReader r = wal.newReader()) {
                    assertTrue(r.seek(target.index()), "seek to " + Long.toHexString(target.index()));
                    WalReader.Entry got = r.next();
                    assertNotNull(got);
                    assertEquals(target.index(), got.index());
                    if (got instanceof WalReader.Valid v && target instanceof WalReader.Valid t) {
                        assertEquals(t.record().header(), v.record().header());
                    }
                }
            }
            for (WalReader.Entry e : entries) {
                if (e instanceof WalReader.Corrupt c) {
                    corruptAt.add(c.position());
                    // a record whose payload rotted behind an intact header is passed over by every reader (it
                    // hides nothing) and stays reported; it must be one of the damaged ones
                    assertWithinDamage(c, placed, damage, report);
                    continue;
                }
                WalRecord r = ((WalReader.Valid) e).record();
                String key = r.header().agentId() + "#" + r.header().batchSeq();
                Placed p = byKey.get(key);
                assertNotNull(p, "a record nobody wrote: " + key);
                assertArrayEquals(p.payload(), r.payload(), key);
                assertTrue(seen.add(key), "read twice: " + key);
                long renumberedFrom = report.repairs().stream().filter(x -> x.segment().equals(p.segment()))
                        .mapToLong(WalRecovery.Repair::renumberedFrom).min().orElse(Long.MAX_VALUE);
                if (p.index() < renumberedFrom) {
                    // what the forwarder confirmed by index stays true outside the renumbered range
                    assertEquals(p.index(), r.index(), key + " moved, but recovery reported it unmoved; " + report);
                }
            }
            List<Placed> destroyed = new ArrayList<>();
            for (Placed p : placed) {
                if (!seen.contains(p.key())) {
                    assertTrue(damage.overlaps(p), "intact record " + p.key() + " at " + p.from() + "-" + p.to()
                            + " lost after reopening; " + report);
                    destroyed.add(p);
                }
            }
            for (Placed p : destroyed) {
                assertTrue(report.damaged() || corruptAt.contains(p.from()),
                        "batch " + p.key() + " destroyed but neither recovery nor a reader names it: " + report);
            }
            if (!destroyed.isEmpty()) {
                Placed gone = destroyed.get(rnd.nextInt(destroyed.size()));
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header(gone.agent(), gone.seq(),
                        BatchPriority.NORMAL), gone.payload()).get(10, TimeUnit.SECONDS).status(),
                        "a destroyed batch's resend is written, not answered DUPLICATE");
            }
            Placed kept = placed.stream().filter(p -> seen.contains(p.key())).findAny().orElse(null);
            if (kept != null && corruptAt.isEmpty()) {
                // (a damaged record makes the WAL forget the seq its header names, which may be a neighbour's when
                // the header itself is what rotted: that neighbour's resend is then written twice, by design)
                assertEquals(AppendResult.Status.DUPLICATE, wal.append(header(kept.agent(), kept.seq(),
                        BatchPriority.NORMAL), kept.payload()).get(10, TimeUnit.SECONDS).status());
            }
            int before = readAll(wal).size();
            for (long seq = 1; seq <= 5; seq++) {
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header("after", seq, BatchPriority.NORMAL),
                        payload("after", seq, 500)).get(10, TimeUnit.SECONDS).status());
            }
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(before + 5, all.size(), "new batches are visible to readers");
            assertEquals(5, ((WalReader.Valid) all.get(all.size() - 1)).record().header().batchSeq());
        }
        try (WalInspector inspector = WalInspector.open(dir)) {
            WalInspector.Verification v = inspector.verify();
            assertEquals(List.of(), v.unreadableFiles());
            for (WalReader.Corrupt c : v.corrupt()) {
                assertWithinDamage(c, placed, damage, report);
            }
            assertFewerCorruptThanDamaged(v.corrupt(), placed, damage);
        }
        return report;
    }

    /**
     * A damaged record still reported after a restart is one the damage hit: named by its exact position where the
     * segment was not rewritten, and in any case no more of them than the damage overlapped.
     */
    private static void assertWithinDamage(WalReader.Corrupt c, List<Placed> placed, Damage damage,
                                           WalRecovery.Report report) {
        boolean rewritten = report.repairs().stream().anyMatch(r -> r.segment().equals(c.segment()));
        assertTrue(rewritten || placed.stream().anyMatch(p -> p.segment().equals(c.segment())
                && p.from() == c.position() && damage.overlaps(p)),
                "damage left after the repair outside what was damaged: " + c + "; " + report);
    }

    private static void assertFewerCorruptThanDamaged(List<?> corrupt, List<Placed> placed, Damage damage) {
        long overlapped = placed.stream().filter(damage::overlaps).count();
        assertTrue(corrupt.size() <= overlapped, corrupt.size() + " damaged records reported, but the damage overlapped "
                + overlapped + ": " + corrupt);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** Appends {@code count} acknowledged batches from three agents and returns where each one landed. */
    private List<Placed> write(Path dir, Random rnd, int count, int minBytes, int maxBytes) throws Exception {
        List<Placed> written = new ArrayList<>();
        try (Wal wal = Wal.open(config(dir), CommitListener.NONE)) {
            long[] seqs = new long[3];
            for (int i = 0; i < count; i++) {
                int a = rnd.nextInt(3);
                String agent = "agent-" + a;
                long seq = ++seqs[a];
                byte[] body = payload(agent, seq, minBytes + rnd.nextInt(Math.max(1, maxBytes - minBytes)));
                AppendResult r = wal.append(header(agent, seq, BatchPriority.NORMAL), body).get(10, TimeUnit.SECONDS);
                assertEquals(AppendResult.Status.PERSISTED, r.status());
                written.add(new Placed(agent, seq, body, null, 0, 0, r.index()));
            }
        }
        Map<String, Placed> byKey = index(written);
        List<Placed> placed = new ArrayList<>();
        var rc = ChronicleQueues.rollCycle("FAST_HOURLY");
        for (SegmentFiles.Entry f : SegmentFiles.list(dir, rc)) {
            new SegmentScanner(f.path(), rc.toIndex(f.cycle(), 0)).walk(true, new SegmentScanner.Visitor() {
                @Override
                public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                    Placed p = byKey.get(record.header().agentId() + "#" + record.header().batchSeq());
                    assertEquals(p.index(), record.index(), "the scanner numbers records as Chronicle does");
                    placed.add(new Placed(p.agent(), p.seq(), p.payload(), f.name(), position,
                            position + 4 + raw.length, p.index()));
                }
            });
        }
        assertEquals(count, placed.size(), "every acknowledged batch is in a segment");
        return placed;
    }

    private static Map<String, Placed> index(List<Placed> placed) {
        Map<String, Placed> m = new HashMap<>();
        placed.forEach(p -> m.put(p.key(), p));
        return m;
    }
}
