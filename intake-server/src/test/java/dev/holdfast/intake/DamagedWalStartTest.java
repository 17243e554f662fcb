package dev.holdfast.intake;

import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An intake restarted on a WAL damaged at rest: a flipped "not complete" flag mid-segment, junk named like a
 * segment, a garbled metadata.cq4t. It must start, say what it found (log, /readyz details, metrics), keep every
 * batch it had acknowledged, and acknowledge new batches that readers then see.
 */
class DamagedWalStartTest {
    @TempDir
    Path tmp;
    private IntakeFixture intake;

    @AfterEach
    void stop() throws Exception {
        if (intake != null) intake.close();
    }

    private static EventBatch batch(long seq) {
        return TestClient.batch("a", seq, 2, Priority.NORMAL, 40);
    }

    @Test
    void startsOnADamagedWalKeepsEveryAcknowledgedBatchAndTakesNewOnes() throws Exception {
        TestClient c = startAndPersist300();
        intake.stop();

        Path wal = intake.walDir();
        Path segment = onlySegment();
        flipIncompleteBit(segment, 150);
        byte[] junk = new byte[20_000];
        new Random(1).nextBytes(junk);
        Files.write(wal.resolve("20200101-00F.cq4"), junk);
        try (RandomAccessFile f = new RandomAccessFile(wal.resolve("metadata.cq4t").toFile(), "rw")) {
            f.write(junk, 0, 512);
        }

        intake.start();
        HttpResponse<String> readyz = intake.http("/readyz");
        assertEquals(200, readyz.statusCode(), readyz.body());
        assertTrue(readyz.body().contains("repaired segment " + segment.getFileName()), readyz.body());
        assertTrue(readyz.body().contains("20200101-00F.cq4"), readyz.body());
        String metrics = intake.metrics();
        assertTrue(metrics.contains("holdfast_wal_recovery_repaired_segments 1.0"), metrics);
        assertTrue(metrics.contains("holdfast_wal_recovery_quarantined_files 2.0"), metrics);
        assertTrue(metrics.contains("holdfast_wal_recovery_damaged_places 1.0"), metrics);

        c = intake.client();
        assertEquals(BatchAck.Status.DUPLICATE, c.blocking().send(batch(150)).getStatus(),
                "the record behind the flag was intact and is still held");
        for (long seq = 301; seq <= 400; seq++) {
            assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch(seq)).getStatus());
        }
        Map<String, byte[]> held = intake.walContents();
        for (long seq = 1; seq <= 400; seq++) {
            assertArrayEquals(batch(seq).toByteArray(), held.get(IntakeFixture.key("a", seq)), "batch " + seq);
        }
        assertEquals(400, held.size());
    }

    @Test
    void damageBehindAWalkMarkIsReadPastNamedSoonAfterTheStartAndRepairedAtTheNext() throws Exception {
        TestClient c = startAndPersist300();
        intake.stop(); // the checkpoint at close covers all 300: the next run's background walk may mark them all
        intake.start();
        Path marks = intake.walDir().resolve("walk-marks");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(marks) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(marks), "the background walk marked the WAL");
        intake.stop();

        Path segment = onlySegment();
        flipIncompleteBit(segment, 150);
        intake.start();
        HttpResponse<String> readyz = intake.http("/readyz");
        assertEquals(200, readyz.statusCode(), readyz.body());
        assertFalse(readyz.body().contains("repaired segment"), "trusted from its mark: " + readyz.body());
        deadline = System.nanoTime() + 10_000_000_000L;
        while (!readyz.body().contains("damage found since the start") && System.nanoTime() < deadline) {
            Thread.sleep(50);
            readyz = intake.http("/readyz");
        }
        assertTrue(readyz.body().contains("WAL damage found since the start in " + segment.getFileName()),
                readyz.body());
        assertTrue(intake.metrics().contains("holdfast_wal_damaged_segments 1.0"));
        c = intake.client();
        assertEquals(BatchAck.Status.DUPLICATE, c.blocking().send(batch(150)).getStatus());
        Map<String, byte[]> held = intake.walContents();
        for (long seq = 1; seq <= 300; seq++) {
            assertArrayEquals(batch(seq).toByteArray(), held.get(IntakeFixture.key("a", seq)), "batch " + seq);
        }
        intake.stop();

        intake.start();
        readyz = intake.http("/readyz");
        assertTrue(readyz.body().contains("repaired segment " + segment.getFileName()), readyz.body());
        assertEquals(300, intake.walContents().size());
    }

    /** A fresh intake with batches 1..300 of agent "a" acknowledged PERSISTED; the client they went through. */
    private TestClient startAndPersist300() throws Exception {
        intake = new IntakeFixture(tmp.resolve("data"));
        intake.start();
        TestClient c = intake.client();
        for (long seq = 1; seq <= 300; seq++) {
            assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch(seq)).getStatus());
        }
        return c;
    }

    /** The WAL's segment (the test writes one). */
    private Path onlySegment() throws IOException {
        try (var files = Files.list(intake.walDir())) {
            return files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    /**
     * Sets the "not complete" bit of the Chronicle header before a batch's record: Chronicle's reader stops there for
     * good. The record's payload is the batch as sent; the header sits 4 + 30 + len("a") + 4 bytes before it.
     */
    private static void flipIncompleteBit(Path segment, long seq) throws IOException {
        byte[] all = Files.readAllBytes(segment);
        int payloadAt = indexOf(all, batch(seq).toByteArray());
        assertTrue(payloadAt > 0);
        long header = payloadAt - 4 - 30 - 1 - 4;
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(header + 3);
            int b = f.read();
            f.seek(header + 3);
            f.write(b | 0x80);
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
