package dev.holdfast.shipper.ebpf;

import static dev.holdfast.shipper.ebpf.KernelFixture.fileops;
import static dev.holdfast.shipper.ebpf.KernelFixture.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.FileEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real kernel, real syscalls: needs root. Fails (does not skip) when eBPF cannot load, with the probe's one-line
 * reason. Every operation runs in a child process; its events are matched by pid, kind and exact absolute path.
 */
class EbpfProbeKernelTest {
    private static final int O_WRONLY = 01, O_CREAT = 0100, O_EXCL = 0200; // x86_64 and arm64 alike
    static Path root;
    static EbpfProbe probe;
    static KernelFixture fx;
    static Filters base;

    @BeforeAll
    static void load() throws Exception {
        root = KernelFixture.tempRoot("hf-ebpf-");
        base = Filters.defaults().withIncludePrefixes(Set.of(root + "/"));
        long t0 = System.nanoTime();
        probe = EbpfProbe.open(ProbeConfig.defaults().withFilters(base));
        System.out.printf("probe loaded+attached in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        fx = new KernelFixture(probe);
    }

    @AfterAll
    static void unload() throws Exception {
        if (probe != null) {
            probe.close();
        }
        if (root != null) {
            new ProcessBuilder("umount", "-l", root.resolve("mnt").toString()).start().waitFor();
        }
    }

    private static String p(String rel) {
        return root.resolve(rel).toString();
    }

    @Test
    void shellRedirectionCreatesWritesAndClosesOnce() throws Exception {
        long pid = run(null, "/bin/sh", "-c", "echo x > " + p("redir.txt") + "; echo y >> " + p("redir.txt"));
        assertEquals(List.of("CREATE " + p("redir.txt"), "MODIFY " + p("redir.txt"), "CLOSE_WRITE " + p("redir.txt"),
                "OPEN " + p("redir.txt"), "MODIFY " + p("redir.txt"), "CLOSE_WRITE " + p("redir.txt")), fx.of(pid));
    }

    @Test
    void manyWritesFoldIntoOneModify() throws Exception {
        Files.writeString(root.resolve("many.txt"), "");
        long folded = probe.counters().writesFolded();
        long pid = fileops(null, "writes", p("many.txt"), "200");
        assertEquals(List.of("OPEN " + p("many.txt"), "MODIFY " + p("many.txt"), "CLOSE_WRITE " + p("many.txt")), fx.of(pid));
        assertTrue(probe.counters().writesFolded() - folded >= 199, "199 writes folded");
        KernelEvent open = fx.first(pid);
        assertEquals(Files.getAttribute(root.resolve("many.txt"), "unix:ino"), open.inode());
        assertEquals(0100000, open.mode() & 0170000, "regular file mode");
        FileEvent f = ReferenceEvents.toFileEvent(open);
        assertEquals("ebpf", f.getSource());
        assertEquals(pid, f.getPid());
        assertEquals(ProcessHandle.current().pid(), f.getPpid(), "parent is this JVM");
        assertEquals("hf-fileops", f.getComm());
        assertTrue(f.getCgroupId() != 0);
    }

    @Test
    void coreutilsOnAbsolutePaths() throws Exception {
        assertEquals(List.of("CREATE " + p("t")), fx.of(run(null, "touch", p("t"))));
        assertEquals(List.of("MKDIR " + p("d")), fx.of(run(null, "mkdir", p("d"))));
        assertEquals(List.of("RENAME " + p("t") + " -> " + p("d/t2")), fx.of(run(null, "mv", p("t"), p("d/t2"))));
        assertEquals(List.of("CHMOD " + p("d/t2")), fx.of(run(null, "chmod", "600", p("d/t2"))));
        assertEquals(List.of("CHOWN " + p("d/t2")), fx.of(run(null, "chown", "1:1", p("d/t2"))));
        assertEquals(List.of("OPEN " + p("d/t2"), "TRUNCATE " + p("d/t2")), fx.of(run(null, "truncate", "-s", "10", p("d/t2"))));
        assertEquals(List.of("LINK " + p("d/t2") + " -> " + p("d/hard")), fx.of(run(null, "ln", p("d/t2"), p("d/hard"))));
        assertEquals(List.of("SYMLINK " + p("d/soft") + " -> t2"), fx.of(run(null, "ln", "-s", "t2", p("d/soft"))));
        assertEquals(List.of("UNLINK " + p("d/soft")), fx.of(run(null, "rm", p("d/soft"))));
        assertEquals(List.of("UNLINK " + p("d/hard"), "UNLINK " + p("d/t2")),
                fx.of(run(null, "rm", p("d/hard"), p("d/t2"))));
        assertEquals(List.of("RMDIR " + p("d")), fx.of(run(null, "rmdir", p("d"))));
    }

    @Test
    void relativePathsAreJoinedToTheCwd() throws Exception {
        Path cwd = Files.createDirectory(root.resolve("rel"));
        assertEquals(List.of("MKDIR " + p("rel/sub")), fx.of(run(cwd, "mkdir", "sub")));
        assertEquals(List.of("CREATE " + p("rel/sub/f")), fx.of(run(cwd, "touch", "./sub/f")));
        assertEquals(List.of("RENAME " + p("rel/sub/f") + " -> " + p("rel/sub/g")), fx.of(run(cwd, "mv", "sub/f", "./sub/g")));
        assertEquals(List.of("SYMLINK " + p("rel/lnk") + " -> sub/g"), fx.of(run(cwd, "ln", "-s", "sub/g", "lnk")));
        assertEquals(List.of("UNLINK " + p("rel/lnk")), fx.of(run(cwd, "rm", "lnk")));
        assertEquals(List.of("UNLINK " + p("rel/sub/g")), fx.of(run(cwd, "rm", "sub/g")));
        assertEquals(List.of("RMDIR " + p("rel/sub")), fx.of(run(cwd, "rmdir", "sub")));
    }

    @Test
    void dirfdRelativeAtSyscalls() throws Exception {
        Path d = Files.createDirectory(root.resolve("at"));
        String dir = d.toString();
        long creator = fileops(null, "openat-creat", dir, "a");
        assertEquals(List.of("CREATE " + p("at/a"), "MODIFY " + p("at/a"), "CLOSE_WRITE " + p("at/a")), fx.of(creator));
        assertEquals(O_CREAT | O_EXCL | O_WRONLY, fx.first(creator).flags() & 0_3777, "openat's flags argument");
        assertEquals(List.of("MKDIR " + p("at/sub")), fx.of(fileops(null, "mkdirat", dir, "sub")));
        assertEquals(List.of("RENAME " + p("at/a") + " -> " + p("at/sub/b")), fx.of(fileops(null, "renameat2", dir, "a", "sub/b")));
        assertEquals(List.of("RENAME " + p("at/sub/b") + " -> " + p("at/c")), fx.of(fileops(null, "renameat", dir, "sub/b", "c")));
        assertEquals(List.of("CHMOD " + p("at/c")), fx.of(fileops(null, "fchmodat", dir, "c", "640")));
        assertEquals(List.of("CHOWN " + p("at/c")), fx.of(fileops(null, "fchownat", dir, "c", "2", "2")));
        assertEquals(List.of("LINK " + p("at/c") + " -> " + p("at/c2")), fx.of(fileops(null, "linkat", dir, "c", "c2")));
        assertEquals(List.of("SYMLINK " + p("at/s") + " -> /nowhere"), fx.of(fileops(null, "symlinkat", "/nowhere", dir, "s")));
        assertEquals(List.of("UNLINK " + p("at/s")), fx.of(fileops(null, "unlinkat", dir, "s")));
        assertEquals(List.of("RMDIR " + p("at/sub")), fx.of(fileops(null, "rmdirat", dir, "sub")));
        long opener = fileops(null, "openat2", dir, "o2");
        assertEquals(List.of("CREATE " + p("at/o2")), fx.of(opener));
        assertEquals(O_CREAT | O_WRONLY, fx.first(opener).flags() & 0_3777, "open_how.flags");
    }

    @Test
    void legacySyscallsAndFdBasedChanges() throws Exception {
        Path cwd = Files.createDirectory(root.resolve("legacy"));
        long opener = fileops(cwd, "open-creat", "o");
        assertEquals(List.of("CREATE " + p("legacy/o")), fx.of(opener));
        assertEquals(O_CREAT | O_WRONLY, fx.first(opener).flags() & 0_3777, "open's flags argument");
        assertEquals(List.of("CREATE " + p("legacy/c")), fx.of(fileops(cwd, "creat", "c")));
        assertEquals(List.of("OPEN " + p("legacy/c")), fx.of(fileops(cwd, "creat", "c")), "creat of an existing file truncates, not creates");
        assertEquals(List.of("RENAME " + p("legacy/o") + " -> " + p("legacy/o2")), fx.of(fileops(cwd, "rename", "o", "o2")));
        assertEquals(List.of("LINK " + p("legacy/o2") + " -> " + p("legacy/o3")), fx.of(fileops(cwd, "link", "o2", p("legacy/o3"))));
        assertEquals(List.of("SYMLINK " + p("legacy/sl") + " -> o2"), fx.of(fileops(cwd, "symlink", "o2", "sl")));
        assertEquals(List.of("CHOWN " + p("legacy/sl")), fx.of(fileops(cwd, "lchown", "sl", "3", "3")));
        assertEquals(List.of("UNLINK " + p("legacy/sl")), fx.of(fileops(cwd, "unlink", "sl")));
        assertEquals(List.of("MKDIR " + p("legacy/dd")), fx.of(fileops(cwd, "mkdir", "dd")));
        assertEquals(List.of("RMDIR " + p("legacy/dd")), fx.of(fileops(cwd, "rmdir", "dd")));
        assertEquals(List.of("CHMOD " + p("legacy/o2")), fx.of(fileops(cwd, "chmod", "o2", "600")));
        assertEquals(List.of("CHOWN " + p("legacy/o2")), fx.of(fileops(cwd, "chown", "o2", "4", "4")));
        assertEquals(List.of("TRUNCATE " + p("legacy/o2")), fx.of(fileops(cwd, "truncate", "o2", "5")));
        assertEquals(List.of("CHMOD " + p("legacy/o2")), fx.of(fileops(null, "fchmod", p("legacy/o2"), "644")));
        long pid = fileops(null, "fchown", p("legacy/o2"), "5", "5");
        assertEquals(List.of("CHOWN " + p("legacy/o2")), fx.of(pid));
        KernelEvent chown = fx.first(pid);
        assertEquals("5", ReferenceEvents.toEvent(chown, 0).getAttributesMap().get("chown.uid"));
        assertEquals(List.of("OPEN " + p("legacy/o2"), "TRUNCATE " + p("legacy/o2")), fx.of(fileops(null, "ftruncate", p("legacy/o2"), "1")));
    }

    @Test
    void failedSyscallsAndPlainReadsEmitNothing() throws Exception {
        Files.writeString(root.resolve("r.txt"), "hello");
        Counters before = probe.counters();
        assertEquals(List.of(), fx.of(fileops(null, "failing-unlink", p("does-not-exist"))));
        assertEquals(List.of(), fx.of(fileops(null, "read", p("r.txt"))));
        Counters after = probe.counters();
        assertTrue(after.filteredFailed() > before.filteredFailed(), "failed counter rises");
        assertTrue(after.filteredReadOnly() > before.filteredReadOnly(), "read-only counter rises");
    }

    @Test
    void ownProcessIsExcludedInTheKernel() throws Exception {
        Counters before = probe.counters();
        Files.writeString(root.resolve("self.txt"), "me");
        Files.delete(root.resolve("self.txt"));
        assertEquals(List.of(), fx.of(ProcessHandle.current().pid()));
        assertTrue(probe.counters().filteredSelf() > before.filteredSelf());
    }

    @Test
    void pathsCrossTmpfsAndBindMounts() throws Exception {
        Path mnt = Files.createDirectory(root.resolve("mnt"));
        run(null, "mount", "-t", "tmpfs", "-o", "size=4m", "hf-test", mnt.toString());
        assertEquals(List.of("CREATE " + p("mnt/f"), "MODIFY " + p("mnt/f"), "CLOSE_WRITE " + p("mnt/f")),
                fx.of(fileops(null, "openat-creat", mnt.toString(), "f")));
        assertEquals(List.of("MKDIR " + p("mnt/in")), fx.of(run(mnt, "mkdir", "in")), "cwd inside the tmpfs");
        Path src = Files.createDirectory(root.resolve("mnt/in/src"));
        Path bind = Files.createDirectory(root.resolve("bind"));
        run(null, "mount", "--bind", src.toString(), bind.toString());
        try {
            assertEquals(List.of("CREATE " + p("bind/x")), fx.of(run(null, "touch", p("bind/x"))));
            KernelEvent e = fx.first(run(bind, "touch", "y"));
            assertEquals(p("bind/y"), e.path());
            assertEquals(Files.getAttribute(bind.resolve("y"), "unix:dev"), e.dev(), "dev of the tmpfs, as stat reports it");
        } finally {
            run(null, "umount", bind.toString());
        }
    }

    @Test
    void excludedPrefixNameAndProcessYieldNoEventsButCount() throws Exception {
        Files.createDirectory(root.resolve("excluded"));
        Files.createDirectory(root.resolve("excluded/kept"));
        probe.updateFilters(base.withExcludePrefixes(Set.of("/proc/", "/sys/", "/dev/", p("excluded") + "/"))
                .withIncludePrefixes(Set.of(root + "/", p("excluded/kept") + "/"))
                .withExcludeNames(Set.of(".swp", "core")));
        try {
            Counters c0 = probe.counters();
            assertEquals(List.of(), fx.of(run(null, "touch", p("excluded/x"))));
            Counters c1 = probe.counters();
            assertEquals(1, c1.filteredPrefixExcluded() - c0.filteredPrefixExcluded());
            assertEquals(List.of("CREATE " + p("excluded/kept/y")), fx.of(run(null, "touch", p("excluded/kept/y"))),
                    "the longer include prefix wins");
            assertEquals(List.of("CREATE " + p("excludedness")), fx.of(run(null, "touch", p("excludedness"))),
                    "a directory prefix with '/' does not match a sibling name");
            assertEquals(List.of(), fx.of(run(null, "touch", p("x.swp"), p("core"))));
            assertEquals(2, probe.counters().filteredNameExcluded() - c1.filteredNameExcluded());
            assertEquals(List.of(), fx.of(run(null, "touch", "/tmp/hf-outside-" + ProcessHandle.current().pid())));
            assertTrue(probe.counters().filteredNotIncluded() > c1.filteredNotIncluded());
            Files.deleteIfExists(Path.of("/tmp/hf-outside-" + ProcessHandle.current().pid()));

            probe.updateFilters(probe.filters().withExcludeComms(Set.of("touch")));
            Counters c2 = probe.counters();
            assertEquals(List.of(), fx.of(run(null, "touch", p("by-touch"))));
            assertTrue(probe.counters().filteredComm() > c2.filteredComm());
            assertEquals(List.of("MKDIR " + p("by-mkdir")), fx.of(run(null, "mkdir", p("by-mkdir"))));
        } finally {
            probe.updateFilters(base);
        }
        assertEquals(List.of("CREATE " + p("excluded/z")), fx.of(run(null, "touch", p("excluded/z"))), "filters removed at runtime");
    }

    @Test
    void aDirectoryMovedIntoTheWatchedTreeIsWatchedAtOnce() throws Exception {
        // The kernel caches "not included" per directory; moving a directory must not leave that verdict behind,
        // even when the mover is a process the probe ignores (this JVM is excluded as the shipper's own pid).
        Path outside = KernelFixture.tempRoot("hf-outside-");
        Path incoming = Files.createDirectory(outside.resolve("incoming"));
        long notIncluded = probe.counters().filteredNotIncluded();
        assertEquals(List.of(), fx.of(run(null, "/bin/sh", "-c",
                "echo a > " + incoming + "/a.txt; echo b > " + incoming + "/b.txt")));
        assertTrue(probe.counters().filteredNotIncluded() - notIncluded >= 2, "filtered as not included");
        Path moved = Files.move(incoming, root.resolve("incoming"));
        assertEquals(List.of("CREATE " + moved + "/c.txt", "MODIFY " + moved + "/c.txt", "CLOSE_WRITE " + moved + "/c.txt"),
                fx.of(run(null, "/bin/sh", "-c", "echo c > " + moved + "/c.txt")));
        Path back = Files.move(moved, outside.resolve("incoming"));
        assertEquals(List.of(), fx.of(run(null, "/bin/sh", "-c", "echo d > " + back + "/d.txt")), "and out again");
    }

    @Test
    void anOpenFilesLaterEventsFollowARenameOfItOrOfItsDirectory() throws Exception {
        // MODIFY and CLOSE_WRITE copy the path their open resolved (the fpath cache); a rename in between, of the
        // file or of any directory above it, must not leave the old path behind.
        assertEquals(List.of("CREATE " + p("g1.txt"), "RENAME " + p("g1.txt") + " -> " + p("g2.txt"),
                "MODIFY " + p("g2.txt"), "RENAME " + p("g2.txt") + " -> " + p("g3.txt"), "CLOSE_WRITE " + p("g3.txt")),
                fx.of(fileops(null, "renames-around-write", p("g1.txt"), p("g1.txt"), p("g2.txt"), p("g2.txt"),
                        p("g3.txt"))));
        Files.createDirectory(root.resolve("d1"));
        assertEquals(List.of("CREATE " + p("d1/f.txt"), "RENAME " + p("d1") + " -> " + p("d2"), "MODIFY " + p("d2/f.txt"),
                "RENAME " + p("d2") + " -> " + p("d3"), "CLOSE_WRITE " + p("d3/f.txt")),
                fx.of(fileops(null, "renames-around-write", p("d1/f.txt"), p("d1"), p("d2"), p("d2"), p("d3"))));
        // a rename by a process the probe ignores (this JVM is excluded as the shipper's own pid) counts as much
        Path fifo = root.resolve("rename.fifo");
        run(null, "mkfifo", fifo.toString());
        Files.createDirectory(root.resolve("e1"));
        Process sh = new ProcessBuilder("/bin/sh", "-c", "exec 3> " + p("e1/f.txt") + "; read x < " + fifo
                + "; echo x >&3").start();
        try {
            awaitEvents(sh.pid(), 1);
            Files.move(root.resolve("e1"), root.resolve("e2"));
            Files.writeString(fifo, "go\n");
            assertTrue(sh.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(List.of("CREATE " + p("e1/f.txt"), "MODIFY " + p("e2/f.txt"), "CLOSE_WRITE " + p("e2/f.txt")),
                    fx.of(sh.pid()), "dash's echo writes to a dup of the fd and closes it: MODIFY and CLOSE_WRITE");
        } finally {
            sh.destroyForcibly();
        }
    }

    @Test
    void aFilterSetWhileAFileIsOpenAppliesToItsLaterEvents() throws Exception {
        // The open's verdict is cached with its path; a filter update in between must be applied to what follows.
        Path fifo = root.resolve("go.fifo");
        run(null, "mkfifo", fifo.toString());
        Process sh = new ProcessBuilder("/bin/sh", "-c", "exec 3> " + p("late.txt") + "; read x < " + fifo
                + "; echo x >&3; exec 3>&-").start();
        try {
            awaitEvents(sh.pid(), 1);
            assertEquals(List.of("CREATE " + p("late.txt")), fx.of(sh.pid()));
            probe.updateFilters(base.withExcludeNames(Set.of("late.txt")));
            Counters c0 = probe.counters();
            Files.writeString(fifo, "go\n");
            assertTrue(sh.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(0, sh.exitValue());
            assertEquals(List.of("CREATE " + p("late.txt")), fx.of(sh.pid()), "MODIFY and CLOSE_WRITE filtered");
            assertEquals(1, probe.counters().filteredNameExcluded() - c0.filteredNameExcluded());
        } finally {
            sh.destroyForcibly();
            probe.updateFilters(base);
        }
    }

    /** Waits until a running process has n events (it is then blocked on its fifo, past them). */
    private static void awaitEvents(long pid, int n) throws InterruptedException {
        for (int i = 0; i < 500 && fx.of(pid).size() < n; i++) {
            Thread.sleep(10);
        }
    }

    @Test
    void deepAndLongPathsAreMarkedTruncated() throws Exception {
        Path deep = root;
        StringBuilder rel = new StringBuilder();
        for (int i = 0; i < 70; i++) {
            rel.append(i == 0 ? "" : "/").append("d").append(i);
        }
        deep = Files.createDirectories(root.resolve(rel.toString()));
        KernelEvent e = fx.first(run(deep, "touch", "leaf"));
        assertTrue(e.pathTruncated(), "deeper than the walk bound: " + e.path());
        assertTrue(deep.resolve("leaf").toString().endsWith(e.path()), "the resolved tail is kept: " + e.path());
    }
}
