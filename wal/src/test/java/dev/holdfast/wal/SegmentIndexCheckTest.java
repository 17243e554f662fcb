package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.holdfast.wal.WalTestSupport.header;
import static dev.holdfast.wal.WalTestSupport.onlySegment;
import static dev.holdfast.wal.WalTestSupport.payload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chronicle's index inside a segment, checked against the records: a segment written with tiny index arrays (many
 * second-level arrays) is found intact, and each way of garbling the index is found, named, and left behind by the
 * repair, so that a seek by index lands on the record it asked for.
 */
class SegmentIndexCheckTest {
    private static final int RECORDS = 200; // Chronicle allows 8 * 8 * 4 = 256 in such a segment
    private static final int INDEX_COUNT = 8;
    private static final int INDEX_SPACING = 4; // 32 records per second-level array: 7 of them

    @TempDir
    Path dir;

    private final RollCycle rc = ChronicleQueues.rollCycle("FAST_HOURLY");
    private final List<Long> positions = new ArrayList<>();

    @Test
    void anIntactIndexOfManyArraysIsNotDamage() throws IOException {
        Path segment = write();
        SegmentScanner.Summary s = walk(segment);
        assertFalse(s.damaged(), s.firstDamage());
        assertEquals(RECORDS, s.records());
        assertTrue(arrays(segment, "index").size() >= RECORDS / (INDEX_COUNT * INDEX_SPACING),
                "the test must cover several second-level arrays");
    }

    @Test
    void aGarbledCapacityIsFoundAndRepaired() throws Exception {
        Path segment = write();
        long array = arrays(segment, "index").get(3);
        overwriteLong(segment, capacityAt(segment, array), -1741026085048414208L); // as bit rot left it in CI
        assertFound(segment, "unreadable");
    }

    @Test
    void anEntryPointingAtTheWrongRecordIsFoundAndRepaired() throws Exception {
        Path segment = write();
        long array = arrays(segment, "index").get(2);
        // entry 1 of array 2 is record (2 * 8 + 1) * 4 = 68; point it at record 69 instead: a silent wrong seek
        overwriteLong(segment, capacityAt(segment, array) + 16 + 8, positions.get(69));
        assertFound(segment, "index entry for record 68");
    }

    @Test
    void aFirstLevelEntryPointingElsewhereIsFoundAndRepaired() throws Exception {
        Path segment = write();
        long first = arrays(segment, "index2index").get(0);
        overwriteLong(segment, capacityAt(segment, first) + 16 + 8 * 4, positions.get(10));
        assertFound(segment, "index2index entry 4");
    }

    @Test
    void theHeaderPointingAtTheWrongFirstLevelIsFoundAndRepaired() throws Exception {
        Path segment = write();
        long field = WalTestSupport.find(segment, "index2Index".getBytes(StandardCharsets.US_ASCII));
        byte[] all = Files.readAllBytes(segment);
        int p = (int) field + "index2Index".length();
        while ((all[p] & 0xff) == 0x8F) {
            p++;
        }
        assertEquals(0xA7, all[p] & 0xff, "int64 after the field name");
        overwriteLong(segment, p + 1, arrays(segment, "index").get(0));
        assertFound(segment, "the file header puts index2index at byte");
    }

    @Test
    void anEntryNotYetWrittenIsNotDamage() throws IOException {
        Path segment = write();
        long array = arrays(segment, "index").get(5);
        overwriteLong(segment, capacityAt(segment, array) + 16 + 8 * 2, 0); // Chronicle scans from the entry before
        assertFalse(walk(segment).damaged(), walk(segment).firstDamage());
    }

    private void assertFound(Path segment, String reason) throws Exception {
        SegmentScanner.Summary s = walk(segment);
        assertTrue(s.damaged() && s.needsRepair(), "index damage is damage");
        assertTrue(s.indexDamaged());
        assertNotNull(s.firstDamage());
        assertTrue(s.firstDamage().contains(reason), s.firstDamage());
        assertEquals(RECORDS, s.records(), "records stay readable one by one");

        WalConfig config = WalConfig.defaults(dir, false);
        SegmentRepair.Result r = new SegmentRepair(config, dir.resolve("quarantine")).repair(segment, cycle());
        assertEquals(RECORDS, r.recordsKept());
        assertEquals(1, r.damage().size());
        assertEquals(rc.toIndex(cycle() + 1, 0), r.renumberedFrom(), "no record moved: nothing is resent");

        SegmentScanner.Summary after = walk(segment);
        assertFalse(after.damaged(), after.firstDamage());
        try (SingleChronicleQueue q = ChronicleQueues.openForReading(dir); ExcerptTailer t = q.createTailer()) {
            for (int n : new int[]{0, 67, 68, 69, 150, RECORDS - 1}) {
                long index = rc.toIndex(cycle(), n);
                assertTrue(t.moveToIndex(index), "seek to record " + n);
                try (DocumentContext dc = t.readingDocument()) {
                    assertTrue(dc.isPresent());
                    WalRecord record = RecordCodec.read(dc.index(), segment.getFileName().toString(), dc.wire().bytes());
                    assertEquals(n + 1, record.header().batchSeq(), "record " + n + " after the seek");
                }
            }
            t.toEnd();
            assertEquals(rc.toIndex(cycle(), RECORDS), t.index(), "the end is after the last record");
        }
        assertNull(walk(segment).firstDamage());
    }

    @Test
    void aReaderPassesIndexArraysBetweenRecordsAsMetadataAndWalksNothing() throws IOException {
        Path segment = write();
        assertTrue(arrays(segment, "index").size() >= 6, "index arrays between the records");
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(dir).rollCycle(rc).readOnly(true).build();
             WalReader reader = new WalReader(q.createTailer(), new AgentSequences(), dir, rc, q::lastIndex, i -> { },
                     c -> false, null, System::nanoTime)) {
            reader.toStart();
            for (int n = 0; n < RECORDS; n++) {
                WalReader.Entry e = reader.next();
                assertTrue(e instanceof WalReader.Valid v && v.record().header().batchSeq() == n + 1, "record " + n);
                assertEquals(rc.toIndex(cycle(), n), e.index());
            }
            assertNull(reader.next());
            assertEquals(0, reader.walksStarted(), "every gap between records was an index array");
        }
    }

    /** One segment of RECORDS records (seq = ordinal + 1) with tiny index arrays, written as the WAL writes. */
    private Path write() throws IOException {
        long now = System.currentTimeMillis();
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(dir).rollCycle(rc)
                .indexCount(INDEX_COUNT).indexSpacing(INDEX_SPACING).timeProvider(() -> now).build();
             ExcerptAppender appender = q.createAppender()) {
            for (int i = 0; i < RECORDS; i++) {
                try (DocumentContext dc = appender.writingDocument()) {
                    RecordCodec.write(dc.wire().bytes(), header("a", i + 1, BatchPriority.NORMAL),
                            payload("a", i + 1, 20 + i % 50));
                }
            }
        }
        Path segment = onlySegment(dir);
        new SegmentScanner(segment, 0).walk(true, new SegmentScanner.Visitor() {
            @Override
            public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                positions.add(position);
            }
        });
        assertEquals(RECORDS, positions.size());
        return segment;
    }

    private int cycle() throws IOException {
        return SegmentFiles.list(dir, rc).get(0).cycle();
    }

    private SegmentScanner.Summary walk(Path segment) throws IOException {
        return new SegmentScanner(segment, rc.toIndex(cycle(), 0)).walk(false, new SegmentScanner.Visitor() { });
    }

    /** Positions of the metadata documents holding an array of this name, in file order. */
    private static List<Long> arrays(Path segment, String name) throws IOException {
        byte[] all = Files.readAllBytes(segment);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        List<Long> out = new ArrayList<>();
        int pos = 0;
        while (pos + 4 <= all.length) {
            int h = b.getInt(pos);
            int len = h & SegmentScanner.LENGTH_MASK;
            if (h == 0 || h == SegmentScanner.END_OF_DATA) {
                break;
            }
            if ((h & SegmentScanner.META_DATA) != 0 && (all[pos + 4] & 0xff) == 0xB9
                    && new String(all, pos + 6, all[pos + 5], StandardCharsets.US_ASCII).equals(name)) {
                out.add((long) pos);
            }
            pos = (pos + 4 + len + 3) & ~3;
        }
        return out;
    }

    /** Byte position of an array document's capacity (after 0x8D); used follows, then the values. */
    private static long capacityAt(Path segment, long document) throws IOException {
        byte[] head = new byte[64];
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
            f.seek(document);
            f.readFully(head);
        }
        for (int i = 6; i < head.length; i++) {
            if ((head[i] & 0xff) == 0x8D) {
                return document + i + 1;
            }
        }
        throw new IllegalStateException("no int64 array at " + document);
    }

    private static void overwriteLong(Path file, long at, long value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        }
    }
}
