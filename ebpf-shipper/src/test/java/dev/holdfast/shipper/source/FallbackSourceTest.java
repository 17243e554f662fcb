package dev.holdfast.shipper.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.shipper.ebpf.Filters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FallbackSourceTest {
    @TempDir
    Path tmp;
    Path root;
    FallbackSource source;
    private final CollectingSink sink = new CollectingSink();
    final List<Event> events = sink.events;

    @BeforeEach
    void setUp() throws IOException {
        root = tmp.toRealPath();
        Files.createDirectories(root.resolve("existing/deep"));
        Files.createDirectories(root.resolve("skip"));
        source = FallbackSource.start(Filters.defaults()
                .withIncludePrefixes(Set.of(root + "/"))
                .withExcludePrefixes(Set.of(root + "/skip/", "/proc/")), 1000);
    }

    @AfterEach
    void tearDown() {
        source.close();
    }

    @Test
    void createModifyDeleteAreReportedWithAbsolutePathsAndSourceFallback() throws Exception {
        Path f = root.resolve("a.txt");
        Files.writeString(f, "x");
        awaitEvent(FileEvent.Kind.CREATE, f);
        Files.writeString(f, "more");
        awaitEvent(FileEvent.Kind.MODIFY, f);
        Files.delete(f);
        Event unlink = awaitEvent(FileEvent.Kind.UNLINK, f);
        assertEquals("fallback", unlink.getFile().getSource());
        assertEquals(0, unlink.getFile().getPid(), "no process context from inotify");
        assertTrue(Math.abs(unlink.getTimeUnixNano() / 1_000_000 - System.currentTimeMillis()) < 60_000, "time is now");
        assertEquals("fallback", source.name());
        assertTrue(source.counters().get("emitted") >= 3);
        assertTrue(source.counters().get("seen") >= 3);
    }

    @Test
    void existingSubdirectoriesAreWatchedFromTheStart() throws Exception {
        Path f = root.resolve("existing/deep/f");
        Files.writeString(f, "x");
        awaitEvent(FileEvent.Kind.CREATE, f);
        assertEquals(3, source.counters().get("watched_dirs"), "root, existing, existing/deep; not skip/");
    }

    @Test
    void newSubdirectoryIsRegisteredAndAFileInsideItIsSeen() throws Exception {
        Path d = Files.createDirectory(root.resolve("newdir"));
        awaitEvent(FileEvent.Kind.MKDIR, d);
        Path f = d.resolve("inside.txt");
        Files.writeString(f, "x");
        awaitEvent(FileEvent.Kind.CREATE, f);
        Files.delete(f);
        awaitEvent(FileEvent.Kind.UNLINK, f);
        Files.delete(d);
        awaitEvent(FileEvent.Kind.RMDIR, d);
    }

    @Test
    void excludedPrefixYieldsNothing() throws Exception {
        Files.writeString(root.resolve("skip/hidden.txt"), "x");
        Files.createDirectory(root.resolve("skip/sub"));
        Path marker = root.resolve("marker");
        Files.writeString(marker, "x");
        awaitEvent(FileEvent.Kind.CREATE, marker); // events arrive in order: anything from skip/ came before it
        for (Event e : events) {
            assertTrue(!e.getFile().getPath().startsWith(root + "/skip"), () -> "excluded event " + e);
        }
    }

    @Test
    void missingIncludeDirectoryFailsToStart() {
        assertThrows(IOException.class, () -> FallbackSource.start(
                Filters.defaults().withIncludePrefixes(Set.of(root + "/missing/")), 10).close());
    }

    private Event awaitEvent(FileEvent.Kind kind, Path path) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int checked = 0;
        while (System.nanoTime() < deadline) {
            source.poll(sink, 100);
            for (; checked < events.size(); checked++) {
                Event e = events.get(checked);
                if (e.getFile().getKind() == kind && e.getFile().getPath().equals(path.toString())) {
                    return e;
                }
            }
        }
        throw new AssertionError("no " + kind + " " + path + " within 10s; got " + events);
    }
}
