package dev.holdfast.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReloadedFilesTest {
    @TempDir
    Path tmp;

    /** "a|b": the two files' contents, refused when either says "bad". */
    private static String join(byte[][] c) throws IOException {
        String a = new String(c[0], StandardCharsets.UTF_8);
        String b = new String(c[1], StandardCharsets.UTF_8);
        if (a.contains("bad") || b.contains("bad")) {
            throw new IOException("unusable");
        }
        return a + "|" + b;
    }

    @Test
    void aChangeIsTakenOnceAndABadOneKeepsTheLastGoodAndIsReportedOnce() throws Exception {
        Path a = Files.writeString(tmp.resolve("a"), "1");
        Path b = Files.writeString(tmp.resolve("b"), "x");
        ReloadedFiles<String> files = ReloadedFiles.load(List.of(a, b), ReloadedFilesTest::join);
        assertEquals("1|x", files.value());
        assertInstanceOf(ReloadedFiles.Unchanged.class, files.check());

        Files.writeString(b, "y");
        assertEquals(new ReloadedFiles.Loaded<>("1|y"), files.check());
        assertEquals("1|y", files.value());
        assertInstanceOf(ReloadedFiles.Unchanged.class, files.check());

        Files.writeString(a, "bad");
        ReloadedFiles.Check<String> refused = files.check();
        assertEquals("unusable", ((ReloadedFiles.Refused<String>) refused).cause().getMessage());
        assertInstanceOf(ReloadedFiles.Unchanged.class, files.check(), "reported once for this content");
        assertEquals("1|y", files.value(), "the last good value stays");

        // bytes moving from one file to the other are a change, though the concatenation is the same
        Files.writeString(a, "1y");
        Files.writeString(b, "");
        assertEquals(new ReloadedFiles.Loaded<>("1y|"), files.check());
    }

    @Test
    void anUnreadableFileIsReportedOnceUntilReadableAndAReplacementByRenameIsSeen() throws Exception {
        Path a = Files.writeString(tmp.resolve("a"), "1");
        Path b = Files.writeString(tmp.resolve("b"), "x");
        ReloadedFiles<String> files = ReloadedFiles.load(List.of(a, b), ReloadedFilesTest::join);
        Files.delete(b);
        ReloadedFiles.Check<String> gone = files.check();
        Exception cause = ((ReloadedFiles.Refused<String>) gone).cause();
        assertEquals(b + ": no such file", cause.getMessage());
        assertEquals(b, ((ReloadedFiles.UnreadableFileException) cause).file());
        assertInstanceOf(ReloadedFiles.Unchanged.class, files.check(), "still missing: said once");
        assertEquals("1|x", files.value());

        // written aside and renamed over, as a config push or a Kubernetes secret update does
        Path next = Files.writeString(tmp.resolve("b.next"), "z");
        Files.move(next, b, StandardCopyOption.ATOMIC_MOVE);
        assertEquals(new ReloadedFiles.Loaded<>("1|z"), files.check());
    }

    @Test
    void aFileThatCannotBeUsedAtStartIsTheCallersError() throws Exception {
        Path a = Files.writeString(tmp.resolve("a"), "bad");
        Path b = Files.writeString(tmp.resolve("b"), "x");
        assertEquals("unusable", assertThrows(IOException.class,
                () -> ReloadedFiles.load(List.of(a, b), ReloadedFilesTest::join)).getMessage());
        Path missing = tmp.resolve("missing");
        ReloadedFiles.UnreadableFileException e = assertThrows(ReloadedFiles.UnreadableFileException.class,
                () -> ReloadedFiles.load(List.of(missing, b), ReloadedFilesTest::join));
        assertEquals("no such file", e.reason());
    }
}
