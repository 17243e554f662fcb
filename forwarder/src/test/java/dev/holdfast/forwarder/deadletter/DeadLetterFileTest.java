package dev.holdfast.forwarder.deadletter;

import dev.holdfast.wal.UnusableDirectoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dead-letter file on a real disk: what is appended reads back whole, a crash's torn tail is cut on open, and
 * damage anywhere costs the damaged entry only and is reported, never hidden.
 */
class DeadLetterFileTest {
    /** An entry's header: magic, body length, CRC32C. */
    private static final int HEAD = 12;

    @TempDir
    Path tmp;

    private Path dir() {
        return tmp.resolve("forwarder").resolve("dead-letters");
    }

    private Path file() {
        return dir().resolve(DeadLetterFile.NAME);
    }

    static DeadLetter letter(String eventId, byte[] key, byte[] value, String destination) {
        return new DeadLetter(1_764_000_000_000L + eventId.hashCode(), 0x1_0000_0007L, eventId, "holdfast.events",
                "record_too_large", "org.apache.kafka.common.errors.RecordTooLargeException: The message is "
                + value.length + " bytes", destination, key, value,
                List.of(new DeadLetter.Header("holdfast.event_id", utf8(eventId)),
                        new DeadLetter.Header("holdfast.agent_id", utf8("agent-7")),
                        new DeadLetter.Header("empty", new byte[0])));
    }

    static DeadLetter small(String eventId) {
        return letter(eventId, utf8("agent-7"), utf8("value of " + eventId), DeadLetter.FILE);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertSame(DeadLetter expected, DeadLetter actual) {
        assertEquals(expected.atMillis(), actual.atMillis());
        assertEquals(expected.walIndex(), actual.walIndex());
        assertEquals(expected.eventId(), actual.eventId());
        assertEquals(expected.topic(), actual.topic());
        assertEquals(expected.reason(), actual.reason());
        assertEquals(expected.error(), actual.error());
        assertEquals(expected.destination(), actual.destination());
        assertArrayEquals(expected.key(), actual.key(), "key of " + expected.eventId());
        assertArrayEquals(expected.value(), actual.value(), "value of " + expected.eventId());
        assertEquals(expected.headers().size(), actual.headers().size());
        for (int i = 0; i < expected.headers().size(); i++) {
            assertEquals(expected.headers().get(i).key(), actual.headers().get(i).key());
            assertArrayEquals(expected.headers().get(i).value(), actual.headers().get(i).value());
        }
    }

    private static List<String> ids(DeadLetterFile.Contents c) {
        return c.entries().stream().map(DeadLetter::eventId).toList();
    }

    /** Appends the letters, returning the file offset where each entry starts (plus the end, last). */
    private List<Long> appendAll(List<DeadLetter> letters) throws IOException {
        List<Long> starts = new ArrayList<>();
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            starts.add(Files.size(f.path()));
            for (DeadLetter d : letters) {
                f.append(d);
                starts.add(Files.size(f.path()));
            }
        }
        return starts;
    }

    private void flipByte(long at) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0x5a);
        }
    }

    private void truncate(long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
            raf.setLength(size);
        }
    }

    @Test
    void everyFieldReadsBackWholeAfterReopening() throws Exception {
        byte[] big = new byte[2 << 20];
        new Random(7).nextBytes(big);
        List<DeadLetter> letters = List.of(
                letter("agent-7/12/0", utf8("agent-7"), utf8("{\"a\":1}"), "topic holdfast.events.dlq partition 0 offset 3"),
                new DeadLetter(5, 6, "agent-7/12/1", "t", "invalid_record", "e", DeadLetter.FILE, null, new byte[0],
                        List.of()),
                letter("agent-7/12/2", utf8("agent-7"), big, DeadLetter.FILE),
                letter("agent-ü/1/0", utf8("agent-ü"), utf8("ünïcödé"), DeadLetter.FILE));
        List<Long> starts = appendAll(letters);

        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(letters.size(), c.entries().size());
        for (int i = 0; i < letters.size(); i++) {
            assertSame(letters.get(i), c.entries().get(i));
        }
        assertNull(c.entries().get(1).key(), "a null key stays null, not empty");
        assertEquals(0, c.damaged());
        assertEquals(Files.size(file()), c.validBytes());
        assertEquals(starts.get(starts.size() - 1), Files.size(file()));
        assertFalse(c.entries().get(0).onlyInFile());
        assertTrue(c.entries().get(1).onlyInFile());

        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(4, f.size());
            for (DeadLetter d : letters) {
                assertTrue(f.contains(d.eventId()), d.eventId());
            }
            assertFalse(f.contains("agent-7/12/3"));
            f.append(small("agent-7/13/0"));
            assertTrue(f.contains("agent-7/13/0"));
        }
        assertEquals(5, DeadLetterFile.read(file()).entries().size());
    }

    @Test
    void aLongEventIdIsKeptWholeSoAResendStillFindsIt() throws Exception {
        String id = "a".repeat(4096) + "/1/0"; // limits.maxAgentIdBytes allows agent ids of 4096 bytes
        String error = "x".repeat(10_000);
        appendAll(List.of(new DeadLetter(1, 2, id, "holdfast.events", "record_too_large", error, DeadLetter.FILE,
                utf8("k"), utf8("v"), List.of())));
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertTrue(f.contains(id), "the id must survive a restart unchanged");
        }
        DeadLetter read = DeadLetterFile.read(file()).entries().get(0);
        assertEquals(id, read.eventId());
        assertEquals("x".repeat(4096) + "…", read.error(), "only the error text is cut");
    }

    @Test
    void aTornTailIsCutOnOpenAndAppendsAfterItReadBack() throws Exception {
        byte[] big = new byte[2 << 20];
        new Random(3).nextBytes(big);
        List<Long> starts = appendAll(List.of(small("a/1/0"), small("a/1/1"),
                letter("a/1/2", utf8("a"), big, DeadLetter.FILE)));
        long intactEnd = starts.get(2);
        truncate(intactEnd + HEAD + 1000); // the crash wrote the header and the first 1000 bytes of the body

        DeadLetterFile.Contents torn = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/1"), ids(torn));
        assertEquals(0, torn.damaged(), "a torn append is not damage");
        assertEquals(intactEnd, torn.validBytes());

        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(intactEnd, Files.size(file()), "open() cuts the torn tail");
            assertTrue(f.contains("a/1/0"));
            assertTrue(f.contains("a/1/1"));
            assertFalse(f.contains("a/1/2"), "the torn entry's record was never confirmed: it is dead-lettered again");
            f.append(small("a/1/2"));
            f.append(small("a/2/0"));
        }
        DeadLetterFile.Contents after = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/1", "a/1/2", "a/2/0"), ids(after));
        assertEquals(0, after.damaged());
        assertSame(small("a/1/2"), after.entries().get(2));
    }

    @Test
    void garbageShorterThanAHeaderIsCutOnOpen() throws Exception {
        long intactEnd = appendAll(List.of(small("a/1/0"), small("a/1/1"))).get(2);
        Files.write(file(), new byte[]{1, 2, 3, 4, 5, 6, 7}, StandardOpenOption.APPEND);
        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/1"), ids(c));
        assertEquals(0, c.damaged());
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(intactEnd, Files.size(file()));
            f.append(small("a/1/2"));
        }
        assertEquals(List.of("a/1/0", "a/1/1", "a/1/2"), ids(DeadLetterFile.read(file())));
    }

    @Test
    void aTornEntryFollowedByShortGarbageIsCutOnOpen() throws Exception {
        List<Long> starts = appendAll(List.of(small("a/1/0"), small("a/1/1"), small("a/1/2")));
        truncate(starts.get(2) + HEAD + 5);
        Files.write(file(), new byte[]{9, 9, 9}, StandardOpenOption.APPEND);
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(starts.get(2), Files.size(file()));
            assertTrue(f.contains("a/1/1"));
            assertFalse(f.contains("a/1/2"));
            f.append(small("a/1/3"));
        }
        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/1", "a/1/3"), ids(c));
        assertEquals(0, c.damaged());
    }

    @Test
    void aFlippedByteInAMiddleEntryCostsThatEntryOnly() throws Exception {
        byte[] big = new byte[2 << 20];
        new Random(5).nextBytes(big);
        List<DeadLetter> letters = List.of(small("a/1/0"), letter("a/1/1", utf8("a"), big, DeadLetter.FILE),
                small("a/1/2"), small("a/1/3"));
        List<Long> starts = appendAll(letters);
        flipByte(starts.get(1) + HEAD + 1_000_000); // in the middle entry's value

        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/2", "a/1/3"), ids(c));
        assertEquals(1, c.damaged());
        assertEquals(new DeadLetterFile.Damage(starts.get(1), starts.get(2) - starts.get(1)), c.damage().get(0));
        assertSame(letters.get(2), c.entries().get(1));
        assertSame(letters.get(3), c.entries().get(2));

        long size = Files.size(file());
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(size, Files.size(file()), "damage inside the file is never cut");
            assertTrue(f.contains("a/1/0"));
            assertFalse(f.contains("a/1/1"));
            assertTrue(f.contains("a/1/3"));
            f.append(small("a/1/4"));
        }
        DeadLetterFile.Contents after = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/2", "a/1/3", "a/1/4"), ids(after));
        assertEquals(1, after.damaged());
    }

    @Test
    void aFlippedByteInALengthFieldCostsThatEntryOnly() throws Exception {
        List<Long> starts = appendAll(List.of(small("a/1/0"), small("a/1/1"), small("a/1/2")));
        for (long at : List.of(starts.get(1) + 4, starts.get(1) + 7)) { // the length's high byte, then its low byte
            flipByte(at);
            DeadLetterFile.Contents c = DeadLetterFile.read(file());
            assertEquals(List.of("a/1/0", "a/1/2"), ids(c), "flipped at " + at);
            assertEquals(1, c.damaged());
            assertEquals(Files.size(file()), c.validBytes());
            flipByte(at); // restore
            assertEquals(3, DeadLetterFile.read(file()).entries().size());
        }
    }

    @Test
    void aFlippedByteInTheLastEntryIsReportedAndKept() throws Exception {
        List<Long> starts = appendAll(List.of(small("a/1/0"), small("a/1/1")));
        flipByte(starts.get(1) + HEAD + 3);
        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0"), ids(c));
        assertEquals(1, c.damaged(), "a complete entry that fails its checksum is damage, not a torn append");
        long size = Files.size(file());
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(size, Files.size(file()));
            assertFalse(f.contains("a/1/1"));
            f.append(small("a/1/2"));
        }
        DeadLetterFile.Contents after = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0", "a/1/2"), ids(after));
        assertEquals(1, after.damaged());
    }

    @Test
    void aFileOfPureGarbageHasNoEntriesAndSaysItIsDamaged() throws Exception {
        Files.createDirectories(dir());
        byte[] garbage = new byte[64 * 1024];
        new Random(11).nextBytes(garbage);
        Files.write(file(), garbage);

        DeadLetterFile.Contents c = DeadLetterFile.read(file());
        assertEquals(List.of(), c.entries());
        assertEquals(List.of(new DeadLetterFile.Damage(0, garbage.length)), c.damage());

        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(0, f.size());
            assertEquals(garbage.length, Files.size(file()), "what is not ours is kept for whoever looks");
            f.append(small("a/1/0"));
        }
        DeadLetterFile.Contents after = DeadLetterFile.read(file());
        assertEquals(List.of("a/1/0"), ids(after));
        assertEquals(1, after.damaged());
    }

    @Test
    void anEmptyOrMissingFileHasNoEntries() throws Exception {
        DeadLetterFile.Contents missing = DeadLetterFile.read(file());
        assertEquals(List.of(), missing.entries());
        assertEquals(0, missing.damaged());
        assertFalse(Files.exists(dir()), "reading creates nothing");

        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(0, f.size());
            assertFalse(f.contains("a/1/0"));
        }
        assertEquals(0, Files.size(file()), "open() creates the file, empty");
        DeadLetterFile.Contents empty = DeadLetterFile.read(file());
        assertEquals(List.of(), empty.entries());
        assertEquals(0, empty.damaged());
        assertEquals(0, empty.validBytes());
    }

    @Test
    void zerosAfterTheLastEntryAreATornAppend() throws Exception {
        long intactEnd = appendAll(List.of(small("a/1/0"))).get(1);
        Files.write(file(), new byte[4096], StandardOpenOption.APPEND); // extended, never written
        assertEquals(0, DeadLetterFile.read(file()).damaged());
        try (DeadLetterFile f = DeadLetterFile.open(dir())) {
            assertEquals(intactEnd, Files.size(file()));
            f.append(small("a/1/1"));
        }
        assertEquals(List.of("a/1/0", "a/1/1"), ids(DeadLetterFile.read(file())));
    }

    @Test
    void aDirectoryItCannotUseIsNamedWithTheReason() throws Exception {
        Path file = Files.writeString(tmp.resolve("forwarder"), "in the way");
        Path dir = file.resolve("dead-letters");
        var e = assertThrows(UnusableDirectoryException.class, () -> DeadLetterFile.open(dir));
        assertEquals(file + ": not a directory (on the way to " + dir + ")", e.getMessage());
        assertEquals("in the way", Files.readString(file), "nothing written");
    }
}
