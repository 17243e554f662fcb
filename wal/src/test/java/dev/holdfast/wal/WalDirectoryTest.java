package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WalDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void anExistingDirectoryAndOneThatCanBeCreatedAreWritableAndNothingIsCreated() throws Exception {
        WalDirectory.checkWritable(tmp);
        WalDirectory.checkWritable(tmp.resolve("data/wal"));
        WalDirectory.checkReadable(tmp);
        assertFalse(Files.exists(tmp.resolve("data")), "a check creates nothing");
    }

    @Test
    void aRegularFileIsNotADirectory() throws Exception {
        Path file = Files.writeString(tmp.resolve("passwd"), "x");
        assertEquals(file + ": not a directory", writableProblem(file));
        assertEquals(file + ": not a directory", readableProblem(file));
    }

    @Test
    void aRegularFileOnTheWayIsNamed() throws Exception {
        Path file = Files.writeString(tmp.resolve("passwd"), "x");
        assertEquals(file + ": not a directory (on the way to " + file + "/data/wal)",
                writableProblem(file.resolve("data/wal")));
        assertEquals(file + ": not a directory (on the way to " + file + "/wal)", readableProblem(file.resolve("wal")));
    }

    @Test
    void aMissingDirectoryIsNotReadable() {
        assertEquals(tmp + "/nowhere: no such directory", readableProblem(tmp.resolve("nowhere")));
    }

    @Test
    void relativePathsAreNamedAbsolute() {
        Path relative = Path.of("target", "no-such-dir-" + System.nanoTime());
        assertEquals(relative.toAbsolutePath() + ": no such directory", readableProblem(relative));
    }

    @Test
    void procAndSysAreRefusedEvenWhereTheyExist() {
        assumeTrue(fileSystemType(Path.of("/proc")).equals("proc"), "/proc is mounted");
        assertEquals("/proc/holdfast: on a pseudo-filesystem (proc); choose a directory on a real disk",
                writableProblem(Path.of("/proc/holdfast")));
        assertEquals("/proc/1: on a pseudo-filesystem (proc); choose a directory on a real disk",
                readableProblem(Path.of("/proc/1")));
        assertEquals("/proc/holdfast/wal: on a pseudo-filesystem (proc); choose a directory on a real disk",
                readableProblem(Path.of("/proc/holdfast/wal")));
        assumeTrue(fileSystemType(Path.of("/sys")).equals("sysfs"), "/sys is mounted");
        assertEquals("/sys/holdfast: on a pseudo-filesystem (sysfs); choose a directory on a real disk",
                writableProblem(Path.of("/sys/holdfast")));
    }

    @Test
    void devtmpfsIsRefused() {
        assumeTrue(fileSystemType(Path.of("/dev")).equals("devtmpfs"), "/dev is a devtmpfs here");
        assertEquals("/dev/holdfast: on a pseudo-filesystem (devtmpfs); choose a directory on a real disk",
                writableProblem(Path.of("/dev/holdfast")));
    }

    @Test
    void walOpenRefusesAPseudoFilesystemBeforeTouchingIt() {
        assumeTrue(fileSystemType(Path.of("/proc")).equals("proc"), "/proc is mounted");
        var e = assertThrows(UnusableDirectoryException.class,
                () -> Wal.open(WalConfig.defaults(Path.of("/proc/holdfast/wal"), false), CommitListener.NONE));
        assertEquals("/proc/holdfast/wal: on a pseudo-filesystem (proc); choose a directory on a real disk",
                e.getMessage());
    }

    // Root (CAP_DAC_OVERRIDE) passes whatever the mode bits say, and so do these checks, which ask access(2). The
    // permission messages are therefore tested where the bits bind even root: the cli module's
    // CliPermissionDeniedTest runs the real command line in a child JVM under setpriv without the capabilities that
    // bypass them (a test here would only be skipped in CI).

    private static String writableProblem(Path dir) {
        return assertThrows(UnusableDirectoryException.class, () -> WalDirectory.checkWritable(dir)).getMessage();
    }

    private static String readableProblem(Path dir) {
        return assertThrows(UnusableDirectoryException.class, () -> WalDirectory.checkReadable(dir)).getMessage();
    }

    private static String fileSystemType(Path p) {
        try {
            return Files.getFileStore(p).type();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
