package dev.holdfast.intake;

import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.config.Overrides;
import dev.holdfast.wal.UnusableDirectoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The intake refuses a directory it cannot write before it starts anything, naming the directory and why. */
class IntakeServerDirectoriesTest {
    @TempDir
    Path tmp;

    private static IntakeConfig config(Path data, String kafka) {
        return IntakeConfig.defaults().withOverrides(new Overrides(data, 0, 0, null, kafka, null));
    }

    private static String startProblem(IntakeConfig config) throws Exception {
        try (IntakeServer server = new IntakeServer(config, IntakeServer.newRegistry())) {
            return assertThrows(UnusableDirectoryException.class, server::start).getMessage();
        }
    }

    @Test
    void aDataDirectoryThatIsAFileIsNamed() throws Exception {
        Path file = Files.writeString(tmp.resolve("data"), "not a directory");
        assertEquals(file + ": not a directory", startProblem(config(file, "none")));
    }

    @Test
    void theForwardersProgressDirectoryIsCheckedAtStartNotOnlyLogged() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Path progress = Files.writeString(data.resolve("forwarder"), "in the way");
        assertEquals(progress + ": not a directory", startProblem(config(data, "127.0.0.1:1")));
        assertFalse(Files.exists(data.resolve("wal")), "nothing was created before the check failed");
    }

    @Test
    void theEmbeddedBrokersDirectoryIsChecked() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Path kafka = Files.writeString(data.resolve("kafka"), "in the way");
        assertEquals(kafka + ": not a directory", startProblem(config(data, "embedded")));
    }

    @Test
    void withoutForwardingItsDirectoriesAreNotRequired() {
        IntakeConfig none = config(tmp.resolve("data"), "none");
        assertEquals(java.util.List.of(tmp.resolve("data"), tmp.resolve("data/wal")),
                IntakeServer.writtenDirectories(none));
    }
}
