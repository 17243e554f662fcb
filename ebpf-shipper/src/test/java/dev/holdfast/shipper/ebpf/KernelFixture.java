package dev.holdfast.shipper.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Shared plumbing of the kernel tests: runs commands as child processes and collects their events. */
final class KernelFixture {
    static final String FILEOPS = System.getProperty("holdfast.ebpf.fileops", "target/native-test/hf-fileops");
    final EbpfProbe probe;
    final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    final List<KernelEvent> seen = new ArrayList<>();

    KernelFixture(EbpfProbe probe) {
        this.probe = probe;
    }

    /** Runs cmd (absolute tools resolved via PATH) in cwd; asserts exit 0; returns the pid. */
    static long run(Path cwd, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + Arrays.toString(cmd));
        }
        assertEquals(0, p.exitValue(), () -> Arrays.toString(cmd) + " failed: " + new String(out));
        return p.pid();
    }

    static long fileops(Path cwd, String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = Path.of(FILEOPS).toAbsolutePath().toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        return run(cwd, cmd);
    }

    /** Drains everything ready (the child has exited, so its records are committed). */
    void drainAll() {
        for (int i = 0; i < 1000; i++) {
            int n = probe.poll(buf, i == 0 ? 50 : 0);
            if (n == 0) {
                return;
            }
            KernelEvent.decodeAll(buf, seen::add);
        }
    }

    /** Events of one process, in order, as "KIND path[ -> newPath]". */
    List<String> of(long pid) {
        drainAll();
        List<String> r = new ArrayList<>();
        for (KernelEvent e : seen) {
            if (e.pid() == pid) {
                r.add(describe(e));
            }
        }
        return r;
    }

    KernelEvent first(long pid) {
        drainAll();
        return seen.stream().filter(e -> e.pid() == pid).findFirst().orElseThrow(() -> new AssertionError("no event of pid " + pid));
    }

    static String describe(KernelEvent e) {
        return e.fileKind() + " " + e.path() + (e.newPath().isEmpty() ? "" : " -> " + e.newPath())
                + (e.pathTruncated() ? " [truncated]" : "");
    }

    static Path tempRoot(String name) throws IOException {
        return Files.createTempDirectory(name).toRealPath();
    }
}
