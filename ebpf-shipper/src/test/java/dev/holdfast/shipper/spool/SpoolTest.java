package dev.holdfast.shipper.spool;

import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpoolTest {


    @TempDir
    Path dir;

    private Spool open(long maxBytes) throws Exception {
        return Spool.open(new Spool.Config(dir.resolve("spool"), maxBytes, 0, "TEST_SECONDLY"));
    }

    private static byte[] bytes(int size, int fill) {
        byte[] b = new byte[size];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    /** Waits for the WAL writer to make the next batch sendable. */
    private static SpooledBatch next(Spool s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            SpooledBatch b = s.nextToSend();
            if (b != null) return b;
            Thread.sleep(2);
        }
        return null;
    }

    @Test
    void batchesLeaveOnlyWhenAcknowledgedAndSurviveAReopen() throws Exception {
        long firstSeq;
        try (Spool s = open(1 << 20)) {
            for (int i = 0; i < 5; i++) {
                s.append(Priority.NORMAL, i + 1, bytes(100, i));
            }
            List<SpooledBatch> sent = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                sent.add(next(s));
            }
            assertNull(s.nextToSend(), "each batch is handed out once per run");
            firstSeq = sent.get(0).seq();
            for (int i = 0; i < 5; i++) {
                assertEquals(firstSeq + i, sent.get(i).seq(), "seqs are consecutive, in append order");
                assertEquals(i + 1, sent.get(i).eventCount());
                assertArrayEquals(bytes(100, i), sent.get(i).encodedEvents());
            }
            assertTrue(firstSeq > 1_000_000_000L, "a fresh spool starts its seqs from the clock, got " + firstSeq);
            s.acknowledge(firstSeq);
            s.acknowledge(firstSeq + 2); // out of order: through stays below the gap
            assertEquals(firstSeq, s.acknowledgedThrough());
            assertEquals(3, s.stats().pendingBatches());
            assertEquals(2 + 4 + 5, s.stats().pendingEvents());
        }
        try (Spool s = open(1 << 20)) {
            List<Long> resent = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                resent.add(next(s).seq());
            }
            // the cursor keeps only the contiguous prefix: firstSeq+2 was acknowledged above a gap, so it is resent
            assertEquals(List.of(firstSeq + 1, firstSeq + 2, firstSeq + 3), resent);
            assertEquals(firstSeq + 4, next(s).seq());
            s.append(Priority.NORMAL, 1, bytes(10, 9));
            assertEquals(firstSeq + 5, next(s).seq(), "new seqs continue after a reopen");
        }
    }

    @Test
    void whenFullItDropsTheOldestUnsentBulkFirstAndCountsIt() throws Exception {
        try (Spool s = open(1000)) {
            s.append(Priority.BULK, 10, bytes(300, 1));
            s.append(Priority.CRITICAL, 20, bytes(300, 2));
            s.append(Priority.BULK, 30, bytes(300, 3));
            s.append(Priority.NORMAL, 40, bytes(300, 4));   // needs room: the oldest BULK (10 events) goes
            Spool.Stats st = s.stats();
            assertEquals(10, st.droppedEvents(Spool.DropReason.BULK));
            assertEquals(3, st.pendingBatches());
            s.append(Priority.NORMAL, 50, bytes(300, 5));   // the other BULK (30 events) goes
            assertEquals(40, s.stats().droppedEvents(Spool.DropReason.BULK));
            s.append(Priority.BULK, 60, bytes(300, 6));     // nothing as unimportant to drop: the new batch goes
            assertEquals(100, s.stats().droppedEvents(Spool.DropReason.BULK));
            s.append(Priority.CRITICAL, 70, bytes(300, 7)); // NORMAL (40) makes room for CRITICAL
            st = s.stats();
            assertEquals(40, st.droppedEvents(Spool.DropReason.NORMAL));
            assertEquals(0, st.droppedEvents(Spool.DropReason.CRITICAL));
            List<Integer> events = new ArrayList<>();
            SpooledBatch b;
            while ((b = next(s)) != null) {
                events.add(b.eventCount());
                if (events.size() == 3) break;
            }
            assertEquals(List.of(20, 50, 70), events, "survivors are sent in seq order");
            assertEquals(140, st.droppedEventsTotal());
        }
    }

    @Test
    void batchesAlreadyHandedOutAreNeverDroppedToMakeRoom() throws Exception {
        try (Spool s = open(700)) {
            s.append(Priority.BULK, 1, bytes(300, 1));
            assertNotNull(next(s));                         // in flight
            s.append(Priority.BULK, 2, bytes(300, 2));
            s.append(Priority.BULK, 3, bytes(300, 3));      // room only by dropping the unsent one (2 events)
            assertEquals(2, s.stats().droppedEvents(Spool.DropReason.BULK));
            assertEquals(1, s.stats().inFlightBatches());
        }
    }

    @Test
    void acknowledgedSegmentsAreDeleted() throws Exception {
        Path spoolDir = dir.resolve("spool");
        try (Spool s = open(1 << 20)) {
            for (int i = 0; i < 3; i++) {
                s.append(Priority.NORMAL, 1, bytes(1000, i));
                s.acknowledge(next(s).seq());
                Thread.sleep(1100); // TEST_SECONDLY: a new segment per second
            }
            s.append(Priority.NORMAL, 1, bytes(1000, 3));
            SpooledBatch last = next(s);
            // four batches in four segments (acknowledge() already retires every few seconds on its own); the
            // newest segment holds the unacknowledged batch and is kept, the others held only acked ones. A segment
            // the reader just left stays mapped until Chronicle's background releaser unmaps it, and a mapped file
            // is never deleted, so retention (every 2 s in production) may need another pass.
            long deadline = System.currentTimeMillis() + 10_000;
            do {
                s.retireSegments();
            } while (cq4Files(spoolDir) > 1 && System.currentTimeMillis() < deadline && sleep(100));
            assertEquals(1, cq4Files(spoolDir));
            s.acknowledge(last.seq());
        }
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    private static long cq4Files(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".cq4")).count();
        }
    }

    @Test
    void aSpoolKilledWithSigkillRecoversEveryBatchItHadAppended() throws Exception {
        Path spoolDir = dir.resolve("spool");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SpoolWriter.class.getName());
        cmd.add(spoolDir.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long appended = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("appended ")) {
                    appended = Long.parseLong(line.substring(9).trim());
                    if (appended >= 2000) break;
                }
            }
            p.destroyForcibly(); // SIGKILL, mid-stream: the writer keeps appending until it dies
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(appended >= 2000, "writer reported " + appended);
        try (Spool s = Spool.open(new Spool.Config(spoolDir, 1L << 30, 0, "TEST_SECONDLY"))) {
            long count = 0;
            long firstSeq = -1;
            SpooledBatch b;
            while ((b = s.nextToSend()) != null) {
                if (firstSeq < 0) firstSeq = b.seq();
                assertEquals(firstSeq + count, b.seq(), "no gap in recovered seqs");
                assertEquals(7, b.eventCount());
                assertArrayEquals(payload(count), b.encodedEvents(), "batch " + count + " intact, in order");
                count++;
            }
            // the writer printed a count only after the WAL had written that batch
            assertTrue(count >= appended, "recovered " + count + " of at least " + appended + " written");
        }
    }

    /** Child JVM: appends batches to a spool until killed, printing how many the WAL has written so far. */
    public static final class SpoolWriter {
        public static void main(String[] args) throws Exception {
            Spool s = Spool.open(new Spool.Config(Path.of(args[0]), 1L << 30, 0, "TEST_SECONDLY"));
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            s.onWritten(written::incrementAndGet);
            for (long i = 0; ; i++) {
                s.append(Priority.NORMAL, 7, payload(i));
                if (i % 100 == 0) {
                    System.out.println("appended " + written.get());
                    System.out.flush();
                }
            }
        }
    }

    /** 200 bytes starting with the batch's ordinal, so recovery can check order and content. */
    static byte[] payload(long ordinal) {
        return java.nio.ByteBuffer.allocate(200).putLong(ordinal).put(bytes(192, (int) (ordinal % 100))).array();
    }
}
