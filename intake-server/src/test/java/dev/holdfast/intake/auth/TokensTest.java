package dev.holdfast.intake.auth;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The token file's format, its reload, and agent-id globs. */
class TokensTest {
    @TempDir
    Path tmp;

    @Test
    void aTokenIsFoundByItsHashAlone() throws Exception {
        Tokens t = Tokens.parse("f", "\n# c\n  " + Tokens.hash("a") + "\tagent-a  x-* \r\n"
                + Tokens.hash("b").toUpperCase().replace("SHA256:", "sha256:") + " agent-b\n");
        assertEquals(2, t.size());
        assertEquals("agent-a", t.find("a").identity());
        assertEquals(List.of("x-*"), t.find("a").agentIds());
        assertEquals(3, t.find("a").line());
        assertEquals("agent-b", t.find("b").identity(), "hex digits in either case");
        assertNull(t.find("c"));
        assertNull(t.find(""));
    }

    @Test
    void eachMistakeNamesItsLine() {
        assertEquals("f:2: expected 'sha256:<64 hex digits> <identity> [agent-id glob ...]'",
                assertThrows(Tokens.InvalidException.class, () -> Tokens.parse("f", "#\n" + Tokens.hash("a") + "\n"))
                        .getMessage());
        assertEquals("f:2: the same token hash is on an earlier line; a token has one identity",
                assertThrows(Tokens.InvalidException.class, () -> Tokens.parse("f", Tokens.hash("a") + " x\n"
                        + Tokens.hash("a") + " y\n")).getMessage());
        String plain = assertThrows(Tokens.InvalidException.class, () -> Tokens.parse("f", "hunter2 agent\n"))
                .getMessage();
        assertTrue(plain.startsWith("f:1: the first field is not sha256:<64 hex digits>"), plain);
        assertFalse(plain.contains("hunter2"), "a pasted plaintext token is never logged");
        assertThrows(Tokens.InvalidException.class, () -> Tokens.parse("f", "sha256:" + "g".repeat(64) + " x\n"));
    }

    @Test
    void globsMatchWholeIdsAndTakeEverythingElseLiterally() {
        assertTrue(AgentGlob.compile("edge-*").matcher("edge-").matches());
        assertTrue(AgentGlob.compile("edge-*").matcher("edge-1.a").matches());
        assertFalse(AgentGlob.compile("edge-*").matcher("xedge-1").matches());
        assertTrue(AgentGlob.compile("lab-?").matcher("lab-1").matches());
        assertFalse(AgentGlob.compile("lab-?").matcher("lab-12").matches());
        assertFalse(AgentGlob.compile("a.b").matcher("axb").matches(), "a dot is a dot");
        assertFalse(AgentGlob.compile("(a|b)").matcher("a").matches());
        assertTrue(AgentGlob.compile("a\\E.*").matcher("a\\E.x").matches(), "quoting cannot be escaped");
    }

    @Test
    void aChangedFileIsTakenAndABadOneKeepsTheLastGood() throws Exception {
        Path file = Files.writeString(tmp.resolve("tokens"), Tokens.hash("a") + " agent-a\n");
        Clock[] now = {Clock.fixed(Instant.ofEpochSecond(1000), ZoneOffset.UTC)};
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TokenFileWatcher w = new TokenFileWatcher(file, registry, new Clock() {
            public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
            public Clock withZone(java.time.ZoneId z) { return this; }
            public Instant instant() { return now[0].instant(); }
        });
        assertEquals(1000.0, registry.get("auth.tokens.loaded.timestamp").gauge().value());
        assertFalse(w.check());
        now[0] = Clock.fixed(Instant.ofEpochSecond(2000), ZoneOffset.UTC);
        Files.writeString(file, Tokens.hash("b") + " agent-b\n");
        assertTrue(w.check());
        assertNull(w.get().find("a"));
        assertEquals("agent-b", w.get().find("b").identity());
        assertEquals(2000.0, registry.get("auth.tokens.loaded.timestamp").gauge().value());

        Files.writeString(file, Tokens.hash("c") + "\n");
        assertFalse(w.check());
        assertFalse(w.check());
        assertEquals("agent-b", w.get().find("b").identity());
        assertEquals(1.0, registry.get("auth.tokens.reload.failures").counter().count(), "one failure, reported once");
        assertEquals(2000.0, registry.get("auth.tokens.loaded.timestamp").gauge().value());
    }
}
