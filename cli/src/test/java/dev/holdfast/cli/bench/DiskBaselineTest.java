package dev.holdfast.cli.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskBaselineTest {

    @Test
    void writesSyncsAndCleansUp(@TempDir Path dir) throws Exception {
        DiskBaseline.Result result = new DiskBaseline(System::nanoTime).measure(dir, 4096, 64 * 1024);
        assertEquals(16, result.fsyncs());
        assertEquals(64 * 1024, result.bytesWritten());
        assertTrue(result.megabytesPerSecond() > 0 && result.fsyncsPerSecond() > 0);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "baseline file must be deleted");
        }
    }
}
