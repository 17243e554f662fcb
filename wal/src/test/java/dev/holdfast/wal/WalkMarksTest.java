package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.holdfast.wal.WalTestSupport.flipBit;
import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.overwrite;
import static dev.holdfast.wal.WalTestSupport.onlySegment;
import static dev.holdfast.wal.WalTestSupport.payload;
import static dev.holdfast.wal.WalTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Walk marks (issue 15, goal 4): a start walks the headers appended since the background walk last found a segment
 * intact, not every header of the WAL; what it trusts from a mark is walked again after the start, and damage there
 * is read past, found, and repaired at the next start. Damage at rest of each kind behind a mark is in the randomized
 * cases of {@link WalDamageTest}; these are the named cases.
 */
class WalkMarksTest {
    /** Records between two of Chronicle's index entries under the WAL's roll cycle. */
    private static final int SPACING = ChronicleQueues.rollCycle("FAST_HOURLY").defaultIndexSpacing();

    @TempDir
    Path tmp;

    private WalConfig config() {
        return WalConfig.defaults(tmp.resolve("wal"), false);
    }

    private static void append(Wal wal, String agent, long fromSeq, int count) throws Exception {
        for (long seq = fromSeq; seq < fromSeq + count; seq++) {
            assertEquals(AppendResult.Status.PERSISTED, wal.append(header(agent, seq, BatchPriority.NORMAL),
                    payload(agent, seq, 300)).get(10, TimeUnit.SECONDS).status());
        }
    }

    /**
     * Writes {@code marked} records and closes (a checkpoint covers them: marks go no further), lets the background
     * walk of the next run mark them, then writes {@code more} and closes again.
     */
    private void writeMarked(int marked, int more) throws Exception {
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            append(wal, "a", 1, marked);
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            // the first pass marks where its walk from the first byte got to (SegmentVerifier.REWALK_RECORDS), the
            // next ones follow from there to the end
            for (long walked = 0; walked < marked; walked += SegmentVerifier.REWALK_RECORDS) {
                wal.verifier().pass();
            }
            append(wal, "a", marked + 1, more);
        }
    }

    /** A verifier of this WAL whose checkpoint covers every record of the cycle. */
    private SegmentVerifier verifier(Map<String, WalkMarks.Mark> saved, long rewalkRecords) throws IOException {
        var rc = ChronicleQueues.rollCycle("FAST_HOURLY");
        int cycle = SegmentFiles.list(config().dir(), rc).get(0).cycle();
        return new SegmentVerifier(config().dir(), rc, new WalkMarks(config().dir()), saved,
                () -> rc.toIndex(cycle + 1, 0), rewalkRecords);
    }

    @Test
    void aRestartWalksOnlyTheHeadersAppendedSinceTheMark() throws Exception {
        writeMarked(3000, 200);
        Map<String, WalkMarks.Mark> marks = new WalkMarks(config().dir()).load();
        assertEquals(1, marks.size());
        assertEquals(3000, marks.values().iterator().next().ordinal(), "marked through the last record walked");
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            WalRecovery.Report r = wal.recovery();
            assertEquals(1, r.walkedFromMark(), r.toString());
            assertFalse(r.damaged(), r.toString());
            // the 200 appended after the mark, and at most one index spacing before it (Chronicle finds its end
            // from the last indexed record, so the start walks from there)
            assertTrue(r.headersWalked() >= 200 && r.headersWalked() <= 200 + SPACING, r.toString());
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(3200, all.size());
            assertSeeksLand(wal, all);
            append(wal, "a", 3201, 5);
            assertEquals(3205, readAll(wal).size());
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(3205, readAll(wal).size());
        }
    }

    @Test
    void withoutMarksEveryHeaderIsWalked() throws Exception {
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            append(wal, "a", 1, 500);
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(0, wal.recovery().walkedFromMark());
            assertEquals(500, wal.recovery().headersWalked());
        }
    }

    @Test
    void aChangedIndexBehindTheMarkIsFoundAtStartAndRepaired() throws Exception {
        writeMarked(3000, 10);
        Path segment = onlySegment(config().dir());
        SegmentScanner scanner = new SegmentScanner(segment, 0);
        SegmentScanner.Indexed entry = scanner.indexedAtOrBefore(1600);
        assertNotNull(entry);
        List<Long> positions = positions(segment);
        assertEquals(positions.get((int) entry.ordinal()), entry.position());
        // the entry now points at the next record: an intact record, but the wrong one
        long at = WalTestSupport.find(segment, littleEndian(entry.position()));
        overwrite(segment, at, littleEndian(positions.get((int) entry.ordinal() + 1)));
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            WalRecovery.Report r = wal.recovery();
            assertEquals(0, r.walkedFromMark(), r.toString());
            assertEquals(1, r.repairs().size(), "the index is rebuilt: " + r);
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(3010, all.size());
            assertSeeksLand(wal, all);
            try (WalReader reader = wal.newReader()) {
                long index = all.get((int) entry.ordinal()).index();
                assertTrue(reader.seek(index));
                assertSame(all.get((int) entry.ordinal()), reader.next(), "the seek the damage would misdirect");
            }
        }
    }

    @Test
    void aDamagedHeaderBehindTheMarkIsReadPastFoundAfterStartAndRepairedAtTheNext() throws Exception {
        writeMarked(3000, 10);
        Path segment = onlySegment(config().dir());
        long victim = positions(segment).get(1500);
        flipBit(segment, victim + 3, 7); // the "not complete" bit of record 1500's header
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            WalRecovery.Report r = wal.recovery();
            assertEquals(1, r.walkedFromMark(), "trusted from its mark: " + r);
            assertFalse(r.damaged(), r.toString());
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(3010, all.size(), "the record behind the flag and every one after it are read");
            assertSeeksLand(wal, all);
            for (int ordinal : new int[]{1500, 1501, 1535}) {
                // Chronicle reaches these from the indexed record before 1500, across the damaged header
                try (WalReader reader = wal.newReader()) {
                    assertTrue(reader.seek(all.get(ordinal).index()));
                    assertSame(all.get(ordinal), reader.next(), "seek across the damage to record " + ordinal);
                }
            }
            assertEquals(java.util.Set.of(), wal.damagedSegments());
            wal.verifier().pass();
            assertEquals(java.util.Set.of(segment.getFileName().toString()), wal.damagedSegments());
            assertEquals(Map.of(), new WalkMarks(config().dir()).load(), "its mark is gone");
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            WalRecovery.Report r = wal.recovery();
            assertEquals(0, r.walkedFromMark());
            assertEquals(1, r.repairs().size(), "repaired at the next start: " + r);
            assertEquals(3010, readAll(wal).size());
        }
    }

    @Test
    void aRottenMarksFileMeansWholeWalksAndIsWrittenAgain() throws Exception {
        writeMarked(500, 10);
        Path file = config().dir().resolve(WalkMarks.FILE);
        flipBit(file, 9, 0);
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(0, wal.recovery().walkedFromMark());
            assertEquals(510, wal.recovery().headersWalked());
            wal.verifier().pass();
        }
        assertEquals(1, new WalkMarks(config().dir()).load().size());
    }

    @Test
    void aMarkThatDoesNotFitItsSegmentIsDroppedAndMadeAgainNotReportedAsDamage() throws Exception {
        writeMarked(2000, 0);
        WalkMarks file = new WalkMarks(config().dir());
        Map<String, WalkMarks.Mark> marks = file.load();
        String name = marks.keySet().iterator().next();
        WalkMarks.Mark right = marks.get(name);
        // a checksummed, well-formed file naming a position 8 bytes into a record: another WAL's, or a bug's
        file.save(Map.of(name, new WalkMarks.Mark(right.position() - 8, right.ordinal(), right.indexDigest())));
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(2000, readAll(wal).size());
            append(wal, "a", 2001, 10);
            wal.verifier().pass();
            assertEquals(java.util.Set.of(), wal.damagedSegments(), "the mark was wrong, not the segment");
            assertEquals(right, file.load().get(name), "made again where the walk from the first byte found record "
                    + right.ordinal());
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            wal.verifier().pass(); // from the first byte: a mark that fits, through the checkpoint at close
            assertEquals(2010, file.load().get(name).ordinal());
            assertFalse(wal.recovery().damaged());
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(1, wal.recovery().walkedFromMark());
            assertEquals(2010, readAll(wal).size());
        }
    }

    @Test
    void aWalkFromAMarkThatDoesNotFitDropsItWithoutCryingDamage() throws Exception {
        writeMarked(2000, 0);
        Path segment = onlySegment(config().dir());
        WalkMarks file = new WalkMarks(config().dir());
        String name = segment.getFileName().toString();
        WalkMarks.Mark right = file.load().get(name);
        long digest = new SegmentScanner(segment, 0).indexDigest(1000);
        // record 1000's ordinal and digest, but a position 8 bytes into it: the background walk goes on from there
        file.save(Map.of(name, new WalkMarks.Mark(positions(segment).get(1000) + 8, 1000, digest)));
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            wal.verifier().pass();
            assertEquals(java.util.Set.of(), wal.damagedSegments(), "the mark was wrong, not the segment");
            assertNull(file.load().get(name), "the mark that does not fit is dropped");
            wal.verifier().pass();
            assertEquals(right, file.load().get(name), "and made again from the first byte");
        }
    }

    @Test
    void aSegmentTruncatedBelowItsMarkIsWalkedWholeAndRepaired() throws Exception {
        writeMarked(2000, 0);
        Path segment = onlySegment(config().dir());
        long cut = positions(segment).get(1000) + 10;
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(cut);
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            WalRecovery.Report r = wal.recovery();
            assertEquals(0, r.walkedFromMark(), r.toString());
            assertTrue(r.damaged(), r.toString());
            assertEquals(1000, readAll(wal).stream().filter(e -> e instanceof WalReader.Valid).count());
        }
    }

    @Test
    void theBackgroundWalkBesideAWritingWriterNeverCriesDamage() throws Exception {
        WalConfig d = config();
        WalConfig often = new WalConfig(d.dir(), d.fsync(), d.groupCommitMaxDelayNanos(), d.groupCommitMaxBytes(),
                d.rollCycle(), d.blockSize(), d.limits(), 20); // checkpoints every 20 ms: marks move while writing
        long marked = 0;
        try (Wal wal = Wal.open(often, CommitListener.NONE)) {
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Throwable> failures = new ArrayList<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        append(wal, "w", 1 + i * 500L, 500);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    writing.set(false);
                }
            });
            writer.start();
            int passes = 0;
            while (writing.get()) {
                wal.verifier().pass();
                passes++;
                marked = Math.max(marked, new WalkMarks(d.dir()).load().values().stream()
                        .mapToLong(WalkMarks.Mark::ordinal).sum());
            }
            writer.join();
            assertEquals(List.of(), failures);
            assertTrue(passes > 3, "passes while writing: " + passes);
            assertTrue(marked > 0, "marks moved while the writer wrote");
            assertEquals(java.util.Set.of(), wal.damagedSegments(), "no damage where there is none");
        }
        try (Wal wal = Wal.open(often, CommitListener.NONE)) {
            wal.verifier().pass(); // the checkpoint at close covers everything: marked to the end
            assertEquals(20_000, new WalkMarks(d.dir()).load().values().stream().mapToLong(WalkMarks.Mark::ordinal)
                    .sum());
        }
        try (Wal wal = Wal.open(often, CommitListener.NONE)) {
            assertTrue(wal.recovery().headersWalked() <= SPACING, wal.recovery().toString());
            assertEquals(20_000, readAll(wal).size());
        }
    }

    @Test
    void marksNeverPassTheCheckpointSoTheRecordsAStartReplaysAreWalkedFirst() throws Exception {
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            append(wal, "a", 1, 1000);
        }
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            append(wal, "a", 1001, 700); // no checkpoint covers these yet (5 s, 64 MiB)
            wal.verifier().pass();
            assertEquals(1000, new WalkMarks(config().dir()).load().values().iterator().next().ordinal());
        }
    }

    @Test
    void theWalkFromTheFirstByteGoesOnAcrossPassesAndFindsDamageFarBehindTheMark() throws Exception {
        writeMarked(3000, 0);
        Path segment = onlySegment(config().dir());
        long victim = positions(segment).get(2600);
        flipBit(segment, victim + 3, 7);
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(1, wal.recovery().walkedFromMark());
            append(wal, "a", 3001, 100);
            var rc = ChronicleQueues.rollCycle("FAST_HOURLY");
            SegmentVerifier verifier = verifier(new WalkMarks(config().dir()).load(), 1000);
            int cycle = SegmentFiles.list(config().dir(), rc).get(0).cycle();
            for (int pass = 1; pass <= 2; pass++) {
                verifier.pass();
                assertEquals(java.util.Set.of(), verifier.damagedSegments(), "1000 records a pass: not there yet");
                assertTrue(verifier.seekNeedsCheck(cycle));
                assertEquals(3100, new WalkMarks(config().dir()).load().values().iterator().next().ordinal(),
                        "the mark follows the writer meanwhile");
            }
            verifier.pass();
            assertEquals(java.util.Set.of(segment.getFileName().toString()), verifier.damagedSegments());
            assertEquals(Map.of(), new WalkMarks(config().dir()).load());
        }
    }

    /**
     * A segment without a mark is marked where the walk from its first byte got to, and from there the mark follows
     * the writer: a walk that waited to catch up with a writer as fast as itself left a start after a long run at
     * full rate 100,000 headers to walk (bench/restart.sh).
     */
    @Test
    void aWalkFromTheFirstByteMarksWhereItGotAndTheMarkFollowsFromThere() throws Exception {
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            append(wal, "a", 1, 2500);
        }
        SegmentVerifier verifier = verifier(Map.of(), 1000);
        verifier.pass();
        assertEquals(1000, new WalkMarks(config().dir()).load().values().iterator().next().ordinal(),
                "1000 records walked from the first byte: marked there");
        verifier.pass();
        assertEquals(2500, new WalkMarks(config().dir()).load().values().iterator().next().ordinal(),
                "the next pass follows the writer from the mark");
        try (Wal wal = Wal.open(config(), CommitListener.NONE)) {
            assertEquals(1, wal.recovery().walkedFromMark());
            assertEquals(2500, readAll(wal).size());
        }
    }

    /** A few seeks by index, each landing on the record a reader reading in order found at that index. */
    private static void assertSeeksLand(Wal wal, List<WalReader.Entry> all) {
        for (int i = 0; i < all.size(); i += Math.max(1, all.size() / 7)) {
            try (WalReader reader = wal.newReader()) {
                assertTrue(reader.seek(all.get(i).index()));
                assertSame(all.get(i), reader.next(), "seek to " + Long.toHexString(all.get(i).index()));
            }
        }
    }

    /** The same record at the same index: a record's payload is an array, so records are compared by hand. */
    private static void assertSame(WalReader.Entry expected, WalReader.Entry got, String what) {
        assertNotNull(got, what);
        assertEquals(expected.index(), got.index(), what);
        assertTrue(expected instanceof WalReader.Valid e && got instanceof WalReader.Valid g
                && e.record().header().equals(g.record().header())
                && java.util.Arrays.equals(e.record().payload(), g.record().payload()), what + ": " + got);
    }

    /** Every record's position in the segment, by ordinal. */
    private static List<Long> positions(Path segment) throws IOException {
        List<Long> out = new ArrayList<>();
        new SegmentScanner(segment, 0).walk(true, new SegmentScanner.Visitor() {
            @Override
            public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                out.add(position);
            }
        });
        return out;
    }

    private static byte[] littleEndian(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
