package dev.holdfast.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BearerTokenTest {
    @TempDir
    Path dir;

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T00:00:00Z"));
    private final Clock clock = new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now.get(); }
    };

    @Test
    void aRotatedTokenIsUsedAfterTheRecheckAndAnUnusableFileKeepsTheLastGood() throws IOException {
        Path file = Files.writeString(dir.resolve("t"), "first-token\n");
        BearerToken token = BearerToken.fromFile(file, clock);
        assertEquals("first-token", token.current());
        Files.writeString(file, "second-token");
        assertEquals("first-token", token.current(), "not read again before the recheck interval");
        now.set(now.get().plus(BearerToken.RECHECK));
        assertEquals("second-token", token.current());
        Files.writeString(file, "");
        now.set(now.get().plus(BearerToken.RECHECK));
        assertEquals("second-token", token.current(), "an emptied file (mid-rewrite) keeps the last good token");
        Files.delete(file);
        now.set(now.get().plus(Duration.ofMinutes(1)));
        assertEquals("second-token", token.current());
    }

    @Test
    void aFileThatIsNotOneTokenIsRefusedWithoutQuotingIt() throws IOException {
        Path spaced = Files.writeString(dir.resolve("spaced"), "two words");
        IOException e = assertThrows(IOException.class, () -> BearerToken.fromFile(spaced, clock));
        assertTrue(e.getMessage().startsWith("token file " + spaced + ": must hold one token"), e.getMessage());
        assertFalse(e.getMessage().contains("two words"), "the content is never quoted");
        Path missing = dir.resolve("missing");
        assertEquals("token file " + missing + ": no such file",
                assertThrows(IOException.class, () -> BearerToken.fromFile(missing, clock)).getMessage());
    }
}
