package dev.holdfast.forwarder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.holdfast.wal.UnusableDirectoryException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressStoreTest {
    @TempDir
    Path tmp;

    @Test
    void progressSurvivesReopeningAndTakesLittleDisk() throws Exception {
        Path dir = tmp.resolve("progress");
        try (ProgressStore store = new ProgressStore(dir)) {
            for (int i = 0; i < 2000; i++) {
                store.save(List.of(new long[]{0, i}, new long[]{5000, 5000 + i}), 5000 + i);
            }
            // Disk actually allocated while open (preallocated log and manifest included; RocksDB trims them on
            // close): it shares the WAL's file system, where RocksDB's defaults would take ~75 MiB up front.
            long kib = allocatedKib(dir);
            assertTrue(kib < 8 * 1024, "the progress store allocates " + kib + " KiB");
        }
        try (ProgressStore store = new ProgressStore(dir)) {
            ProgressStore.Saved p = store.load();
            assertEquals(6999, p.highestSent());
            assertEquals(2, p.confirmed().size());
            assertArrayEquals(new long[]{0, 1999}, p.confirmed().get(0));
        }
    }

    @Test
    void aDirectoryItCannotUseIsNamedWithTheReason() throws Exception {
        Path file = Files.writeString(tmp.resolve("progress"), "in the way");
        var e = assertThrows(UnusableDirectoryException.class, () -> new ProgressStore(file));
        assertEquals(file + ": not a directory", e.getMessage());
    }

    private static long allocatedKib(Path dir) throws Exception {
        Process du = new ProcessBuilder("du", "-sk", dir.toString()).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertEquals(0, du.waitFor());
        return Long.parseLong(out.split("\\s+")[0]);
    }
}
