package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipper's service unit grants it exactly two capabilities. This runs the real shipper, eBPF source, as an
 * unprivileged user ({@code nobody}) with exactly the capabilities the unit names ({@code setpriv}), and checks that
 * the probe loads and captures file activity; then with each of them taken away, that it cannot load (exit 3). So
 * the set in {@code packaging/systemd/holdfast-shipper.service} is proven enough, and each of its members needed.
 */
class ShipperCapabilitiesIT {
    private static final Path UNIT = Path.of("..", "packaging", "systemd", "holdfast-shipper.service");

    @TempDir
    Path tmp;

    @Test
    void exactlyTheUnitsCapabilitiesAreEnoughAndEachIsNeeded() throws Exception {
        List<String> caps = SystemdUnitsTest.capabilities(Files.readString(UNIT), "AmbientCapabilities");
        assertEquals(List.of("CAP_BPF", "CAP_PERFMON"), caps, "the unit's set (this test proves that one)");
        if (!"0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip())
                && System.getenv("CI") == null) {
            Assumptions.abort("setpriv needs root to switch user and hand out capabilities; CI runs as root");
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path watched = Files.createDirectories(tmp.resolve("watched"));
        Files.setPosixFilePermissions(watched, PosixFilePermissions.fromString("rwxrwxrwx"));

        // with exactly the unit's set: loads, captures, and holds those two capabilities and no others
        int port = FreePorts.next();
        Path log = tmp.resolve("shipper.log");
        Process shipper = start(caps, watched, port, log);
        try {
            awaitReady(port, shipper, log);
            String status = Files.readString(Path.of("/proc", Long.toString(shipper.pid()), "status"));
            assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534")), status);
            long effective = Long.parseLong(status.lines().filter(l -> l.startsWith("CapEff:")).findFirst()
                    .orElseThrow().substring(7).strip(), 16);
            assertEquals((1L << 38) | (1L << 39), effective, "CapEff: CAP_PERFMON (38) and CAP_BPF (39) only");
            for (int i = 0; i < 10; i++) {
                Path f = watched.resolve("f" + i);
                Files.writeString(f, "x");
                Files.delete(f);
            }
            double drained = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((drained = metric(port, "holdfast_shipper_drained_events_total")) < 40 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(drained >= 40, "events captured as nobody with " + caps + ": " + drained + "; log: "
                    + Files.readString(log));
        } finally {
            shipper.destroy();
            shipper.waitFor(30, TimeUnit.SECONDS);
        }

        // without either one, the probe does not load: the shipper says so and exits 3
        for (String missing : caps) {
            List<String> fewer = new ArrayList<>(caps);
            fewer.remove(missing);
            Path failedLog = tmp.resolve("without-" + missing + ".log");
            Process p = start(fewer, watched, FreePorts.next(), failedLog);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running without " + missing);
            String out = Files.readString(failedLog);
            assertEquals(ExitCodes.EBPF_UNAVAILABLE, p.exitValue(), "without " + missing + ": " + out);
            assertTrue(out.contains("eBPF unavailable"), out);
        }
    }

    private Process start(List<String> caps, Path watched, int metricsPort, Path log) throws Exception {
        Path spool = Files.createDirectories(tmp.resolve("spool-" + metricsPort));
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        String set = "-all" + caps.stream().map(c -> ",+" + c.substring(4).toLowerCase()).reduce("", String::concat);
        List<String> cmd = new ArrayList<>(Arrays.asList("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set));
        cmd.addAll(HoldfastProcess.command("shipper", "--intake", "127.0.0.1:1", "--watch", watched.toString(),
                "--spool", spool.toString(), "--agent-id", "caps", "--metrics-port", Integer.toString(metricsPort),
                "--source", "ebpf"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void awaitReady(int port, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("shipper exited with " + p.exitValue() + ": " + Files.readString(log));
            }
            try {
                if (get(port, "/readyz").statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("shipper not ready in 60 s: " + Files.readString(log));
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double metric(int port, String name) throws Exception {
        double sum = 0;
        for (String line : get(port, "/metrics").body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
