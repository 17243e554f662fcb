package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.holdfast.wal.WalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class PageToucherTest {
    @TempDir
    Path tmp;

    @Test
    void touchesEachPageUpToTheBoundAheadOfTheLastRecordAndChangesNoByte() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("q"), true);
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender();
             PageToucher toucher = new PageToucher(null, System::nanoTime)) { // not started: this thread touches
            toucher.follow(appender);
            assertFalse(toucher.touchNext(), "nothing to touch before the first record: no file yet");

            byte[] first = record(10_000);
            write(appender, first);
            toucher.follow(appender);
            assertEquals(PageToucher.AHEAD / PageToucher.PAGE, touchAll(toucher),
                    "one touch per page up to the bound past the record");
            assertFalse(toucher.touchNext(), "nothing more until the next record");

            // the next record ends about five pages further on: only the pages newly within the bound are touched
            byte[] second = record(5 * PageToucher.PAGE);
            write(appender, second);
            toucher.follow(appender);
            long more = touchAll(toucher);
            assertTrue(more >= 4 && more <= 6, "touched " + more + " pages after a record of five pages");

            // what was touched still reads as zeros, which is what Chronicle takes for "no record yet"
            long end = appender.wire().bytes().writePosition();
            try (RandomAccessFile file = new RandomAccessFile(appender.currentFile(), "r")) {
                byte[] ahead = new byte[(int) PageToucher.AHEAD];
                file.seek(end);
                file.readFully(ahead);
                for (int i = 0; i < ahead.length; i++) {
                    assertEquals(0, ahead[i], "byte " + (end + i) + " of the file, after touching");
                }
            }

            // both records read back byte for byte, although touches went over the pages they were written to
            assertReadsBack(queue, List.of(first, second));
        }
    }

    /**
     * The toucher can lag behind the writer: it learns the writer's position only after a group, and the writer may
     * meanwhile have filled the pages it is about to touch. Those touches must leave the records as they are.
     */
    @Test
    void touchingPagesTheWriterHasAlreadyFilledChangesNothing() {
        WalConfig config = WalConfig.defaults(tmp.resolve("q"), true);
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender();
             PageToucher toucher = new PageToucher(null, System::nanoTime)) { // not started: this thread touches
            List<byte[]> written = new java.util.ArrayList<>();
            written.add(record(100));
            write(appender, written.get(0));
            toucher.follow(appender); // the position it knows ...
            for (int i = 0; i < 20; i++) { // ... and 20 records of 20 KB written past it before it touches
                byte[] r = record(20_000);
                r[0] = (byte) (i + 1);
                write(appender, r);
                written.add(r);
            }
            assertEquals(PageToucher.AHEAD / PageToucher.PAGE, touchAll(toucher),
                    "it touched every page of the megabyte past the position it knew, records and all");
            assertReadsBack(queue, written);
        }
    }

    @Test
    void touchingFromItsOwnThreadBesideTheWriterChangesNoByteOfAnyRecord() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("q"), true);
        List<byte[]> written = new java.util.ArrayList<>();
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender()) {
            try (PageToucher toucher = new PageToucher(null, System::nanoTime)) {
                toucher.start();
                for (int i = 0; i < 400; i++) { // 400 records of 1-30 KB, zero runs at every page boundary
                    byte[] r = record(1_000 + (i * 7_919) % 29_000);
                    r[r.length - 1] = (byte) i;
                    write(appender, r);
                    written.add(r);
                    toucher.follow(appender);
                    if (i % 50 == 0) {
                        Thread.sleep(20); // let it catch up and touch ahead of the next records
                    }
                }
                assertTrue(toucher.touched() > 0, "the toucher's thread touched nothing");
            }
            assertReadsBack(queue, written);
        }
    }

    @Test
    void theWriterTouchesAheadAndEveryRecordReadsBackIntact() throws Exception {
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), true), CommitListener.NONE)) {
            wal.append(header("a", 1, BatchPriority.NORMAL), payload("a", 1, 50_000)).get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (wal.pagesTouched() < PageToucher.AHEAD / PageToucher.PAGE && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(wal.pagesTouched() >= PageToucher.AHEAD / PageToucher.PAGE,
                    "the toucher touched only " + wal.pagesTouched() + " pages ahead");
            for (int seq = 2; seq <= 40; seq++) { // over and past the touched megabyte
                assertEquals(AppendResult.Status.PERSISTED, wal.append(header("a", seq, BatchPriority.NORMAL),
                        payload("a", seq, 50_000)).get().status());
            }
            List<WalReader.Entry> all = readAll(wal);
            assertEquals(40, all.size());
            for (int i = 0; i < all.size(); i++) {
                WalRecord rec = assertInstanceOf(WalReader.Valid.class, all.get(i), "record " + (i + 1)).record();
                assertArrayEquals(payload("a", i + 1, 50_000), rec.payload(), "record " + (i + 1));
            }
        }
    }

    /**
     * Pages well behind the writer leave the process's mapping (its resident set), and no byte of any record is lost
     * with them: not those the writer synced, not those it did not, not an index slot it writes later.
     */
    @Test
    void pagesFarBehindTheWriterLeaveTheResidentSetAndEveryRecordStays() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("q"), true);
        List<byte[]> written = new java.util.ArrayList<>();
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender();
             PageToucher toucher = new PageToucher(null, System::nanoTime)) { // not started: this thread drops
            for (int i = 0; i < 300; i++) { // 30 MB, within the first 64 MiB chunk
                byte[] r = record(100_000);
                r[r.length - 1] = (byte) i;
                write(appender, r);
                written.add(r);
            }
            toucher.follow(appender);
            Path file = appender.currentFile().toPath().toRealPath();
            long before = residentKib(file);
            assertTrue(before >= 28_000, "the writer's pages are resident after writing: " + before + " KiB");

            assertTrue(toucher.dropBehind());
            long end = appender.wire().bytes().writePosition();
            long expected = ((end - PageToucher.BEHIND) & -PageToucher.PAGE) >> 10;
            assertTrue(toucher.droppedBytes() >> 10 >= expected - 64, "dropped " + toucher.droppedBytes());
            long after = residentKib(file);
            assertTrue(after <= before - expected + 1024,
                    "resident " + before + " KiB before, " + after + " KiB after dropping " + expected + " KiB");
            assertFalse(toucher.dropBehind(), "nothing more to drop until the writer moves on");

            for (int i = 300; i < 340; i++) { // the writer goes on (index slots behind it are written again)
                byte[] r = record(100_000);
                r[r.length - 1] = (byte) i;
                write(appender, r);
                written.add(r);
            }
            toucher.follow(appender);
            assertTrue(toucher.dropBehind(), "the next step behind the writer");
            assertReadsBack(queue, written);
        }
        // and again through a new mapping, from the page cache and the file
        try (SingleChronicleQueue queue = ChronicleQueues.openForReading(config.dir())) {
            assertReadsBack(queue, written);
        }
    }

    /**
     * Pages further behind the writer than {@link PageCacheTrim#WRITER_KEEP} leave the page cache once they are written back,
     * and every record still reads back, from the disk. Residency is what util-linux's {@code fincore} reports.
     */
    @Test
    void pagesFarBehindTheWriterLeaveThePageCacheAndEveryRecordReadsBackFromTheDisk() throws Exception {
        WalConfig config = WalConfig.defaults(tmp.resolve("q"), true);
        List<byte[]> written = new java.util.ArrayList<>();
        PageCacheTrim.LibC libc = PageCacheTrim.loadLibC();
        assertNotNull(libc, "libc's posix_fadvise binds on Linux");
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender();
             // not started: this thread drops, as the writer goes on
             PageToucher toucher = new PageToucher(libc, System::nanoTime)) {
            Path file = null;
            for (int i = 0; i < 2400; i++) { // 600 MB, into the tenth 64 MiB chunk
                byte[] r = record(250_000);
                r[r.length - 1] = (byte) i;
                r[r.length - 2] = (byte) (i >> 8);
                write(appender, r);
                written.add(r);
                if (file == null) {
                    file = appender.currentFile().toPath().toRealPath();
                }
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.getChannel().force(false); // as the group commit's sync leaves the pages: clean
                }
                toucher.follow(appender);
                while (toucher.dropBehind()) {
                    // as the toucher's thread does between the writer's groups
                }
            }
            long end = appender.wire().bytes().writePosition();
            long cached = cachedKib(file);
            // what the writer keeps, two steps, and what the kernel reads ahead of the writer's page faults (this
            // machine's disk reads 8 MiB ahead, and a fault in a hole reads ahead zeros): without the advice, 600 MB
            long bound = (PageCacheTrim.WRITER_KEEP + 2 * PageCacheTrim.STEP + (16L << 20)) >> 10;
            assertTrue(cached <= bound, "cached " + cached + " KiB of the file with the writer at " + (end >> 20)
                    + " MiB (at most " + bound + ")");
            assertTrue(toucher.uncachedBytes() >= end - PageCacheTrim.WRITER_KEEP - PageCacheTrim.STEP,
                    "advised " + toucher.uncachedBytes());
            assertFalse(toucher.dropBehind(), "nothing more until the writer moves on");
            assertReadsBack(queue, written);
        }
    }

    /** Bytes with zero runs at every page boundary of the file, where a touch lands if the record covers it. */
    private static byte[] record(int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) 0x5A);
        for (int i = 0; i < size; i += 1000) {
            Arrays.fill(b, i, Math.min(size, i + 500), (byte) 0);
        }
        return b;
    }

    /**
     * An msync writes back whole page-cache folios. Faulted in by readahead, the pages ahead of the writer came in
     * folios of up to 2 MiB, and every small group's sync wrote the whole folio around it again: 22 times the records'
     * bytes in this test on this kernel (6.18, ext4) when the writer's chunks were not advised {@code MADV_RANDOM}.
     * Counted here as the bytes this process sent to the disk ({@code write_bytes} of /proc/self/io: writeback is
     * charged to whoever submits it, and an msync submits its own). One group at a time is well below the rate at
     * which the writer's chunks keep large folios.
     */
    @Test
    void eachSyncWritesBackAboutWhatItsGroupHolds() throws Exception {
        // readahead grows its folios window by window (8 MiB here): past the first few windows they are 2 MiB
        int batches = 1_600;
        int size = 64 << 10;
        long before = bytesWrittenToDisk();
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), true), CommitListener.NONE)) {
            for (int seq = 1; seq <= batches; seq++) { // one at a time: a group and an msync each
                AppendResult r = wal.append(header("f", seq, BatchPriority.NORMAL), payload("f", seq, size))
                        .get(10, TimeUnit.SECONDS);
                assertEquals(AppendResult.Status.PERSISTED, r.status(), "batch " + seq);
            }
        }
        long written = bytesWrittenToDisk() - before;
        long records = (long) batches * size;
        assertTrue(written >= records, "the disk was sent " + written + " bytes for " + records
                + " bytes of records: this filesystem does not count writes in /proc/self/io, so this test proves"
                + " nothing here");
        assertTrue(written < 2 * records, "the disk was sent " + written + " bytes for " + records
                + " bytes of records, synced " + batches + " times");
    }

    /**
     * The writer's next chunk gets 4 KiB folios when it went through the last one slowly, and keeps readahead's large
     * folios (fewer page faults) when it went through fast. Chunks of 1 MiB here; the clock is the test's.
     */
    @Test
    void aChunkGetsSmallFoliosOnlyAfterTheWriterWentThroughTheLastOneSlowly() {
        WalConfig d = WalConfig.defaults(tmp.resolve("q"), true);
        WalConfig config = new WalConfig(d.dir(), true, d.groupCommitMaxDelayNanos(), d.groupCommitMaxBytes(),
                d.rollCycle(), 1L << 20, d.limits(), d.snapshotIntervalMillis());
        long[] now = {0};
        try (SingleChronicleQueue queue = ChronicleQueues.openForWriting(config);
             ExcerptAppender appender = queue.createAppender();
             PageToucher toucher = new PageToucher(null, () -> now[0])) { // not started: nothing is touched
            write(appender, record(100));
            toucher.follow(appender);
            assertEquals(1, toucher.smallFolioChunks(), "the first chunk: the rate is not known yet");

            // the next chunk at 1 MiB a second, far below the bound
            assertEquals(2, writeIntoNextChunk(appender, toucher, now, 1_000_000_000L));
            // the next at 1 MiB in a millisecond, 1 GiB a second: large folios, fewer faults
            assertEquals(2, writeIntoNextChunk(appender, toucher, now, 1_000_000L));
            // slow again
            assertEquals(3, writeIntoNextChunk(appender, toucher, now, 1_000_000_000L));
        }
    }

    /** Writes 8 KiB records, spread over {@code nanosPerMiB} a MiB, until the appender is in another chunk. */
    private static long writeIntoNextChunk(ExcerptAppender appender, PageToucher toucher, long[] now,
                                           long nanosPerMiB) {
        Object chunk = appender.wire().bytes().bytesStore();
        for (int i = 0; i < 1_000 && appender.wire().bytes().bytesStore() == chunk; i++) {
            write(appender, record(8 << 10));
            now[0] += nanosPerMiB / 128;
            toucher.follow(appender);
        }
        assertNotSame(chunk, appender.wire().bytes().bytesStore(), "the appender never left its chunk");
        return toucher.smallFolioChunks();
    }

    private static long bytesWrittenToDisk() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("write_bytes:")) {
                return Long.parseLong(line.substring("write_bytes:".length()).trim());
            }
        }
        throw new IllegalStateException("no write_bytes in /proc/self/io");
    }

    /** The queue holds exactly these records, byte for byte, and nothing after them. */
    private static void assertReadsBack(SingleChronicleQueue queue, List<byte[]> expected) {
        try (ExcerptTailer tailer = queue.createTailer()) {
            for (int i = 0; i < expected.size(); i++) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    assertTrue(dc.isPresent(), "record " + i);
                    Bytes<?> b = dc.wire().bytes();
                    byte[] got = new byte[(int) b.readRemaining()];
                    b.read(got);
                    assertArrayEquals(expected.get(i), got, "record " + i);
                }
            }
            try (DocumentContext dc = tailer.readingDocument()) {
                assertFalse(dc.isPresent(), "nothing after the last record");
            }
        }
    }

    private static void write(ExcerptAppender appender, byte[] record) {
        try (DocumentContext dc = appender.writingDocument()) {
            dc.wire().bytes().write(record);
        }
    }

    private static long touchAll(PageToucher toucher) {
        long n = 0;
        while (toucher.touchNext()) {
            n++;
        }
        return n;
    }
}
