package dev.holdfast.dist;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.testkit.TestPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The release tarball as an operator gets it: unpacked into an empty directory and run from there with a PATH that
 * holds no {@code java} and no {@code mvn}, only the few shell tools {@code bin/holdfast} uses. An intake (TLS on
 * gRPC, so the runtime's EC provider is exercised; its forwarder on, with RocksDB, towards a Kafka that is not there)
 * takes events from the fallback shipper and from the load generator, and {@code wal verify} then reads the WAL it
 * wrote.
 */
class ReleaseTarballIT {
    /** What bin/holdfast itself runs, plus bash for its #!/usr/bin/env line: nothing that could start a JVM. */
    private static final List<String> SHELL_TOOLS = List.of("bash", "cat", "dirname", "readlink");

    private static final Path TARBALL = Path.of(System.getProperty("holdfast.release.tarball"));
    private static final String VERSION = System.getProperty("holdfast.version");

    @TempDir
    static Path tmp;
    static Path root;
    static Map<String, String> env;

    @BeforeAll
    static void unpack() throws Exception {
        assertTrue(Files.isRegularFile(TARBALL), TARBALL + " is missing: this test runs after `package`");
        Path into = Files.createDirectories(tmp.resolve("unpacked"));
        Process tar = new ProcessBuilder("tar", "-xzf", TARBALL.toString(), "-C", into.toString()).inheritIO().start();
        assertEquals(0, tar.waitFor());
        root = into.resolve("holdfast-" + VERSION);
        assertTrue(Files.isDirectory(root), "the tarball's one top directory is holdfast-VERSION");

        Path bin = Files.createDirectories(tmp.resolve("path"));
        for (String tool : SHELL_TOOLS) {
            Files.createSymbolicLink(bin.resolve(tool), which(tool));
        }
        env = Map.of("PATH", bin.toString(), "HOME", tmp.toString(), "LANG", "C.UTF-8");
        // the point of the test: were either reachable, the release could be using it
        for (String absent : List.of("java", "mvn")) {
            ProcessBuilder pb = new ProcessBuilder(bin.resolve("bash").toString(), "-c", "command -v " + absent);
            pb.environment().clear();
            pb.environment().putAll(env);
            Process p = pb.start();
            String found = new String(p.getInputStream().readAllBytes()).strip();
            assertEquals(1, p.waitFor(), absent + " is on the test's PATH: " + found);
        }
    }

    /** A tool from the system directories (not from the build's PATH, which has a JDK on it). */
    private static Path which(String tool) {
        for (String dir : List.of("/usr/bin", "/bin")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(tool + " not found in /usr/bin or /bin");
    }

    @Test
    void theSha256FileIsSha256sumsAndMatches() throws Exception {
        Path sum = Path.of(TARBALL + ".sha256");
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(TARBALL)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        // sha256sum's format, so `sha256sum -c` checks it beside the tarball
        assertEquals(HexFormat.of().formatHex(sha.digest()) + "  " + TARBALL.getFileName() + "\n", Files.readString(sum));
    }

    @Test
    void everyCommandSaysThePomsVersion() throws Exception {
        for (List<String> args : List.of(List.of("--version"), List.of("intake", "--version"),
                List.of("shipper", "--version"), List.of("wal", "verify", "--version"))) {
            Result r = run(Duration.ofSeconds(60), args.toArray(String[]::new));
            assertEquals(0, r.exit(), args + ": " + r.output());
            assertEquals("holdfast " + VERSION, r.output().strip(), args.toString());
        }
    }

    @Test
    void theRuntimeHasEveryModuleTheJarsNeedAndTheOptionsNoBuildPath() throws Exception {
        // jdeps of the JDK running this test, over the release's own jars
        Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
        Process p = new ProcessBuilder(jdeps.toString(), "--print-module-deps", "--ignore-missing-deps",
                "--multi-release", "17", "--recursive", "--class-path", root.resolve("app/lib") + "/*",
                root.resolve("app/holdfast.jar").toString()).redirectErrorStream(true).start();
        String needed = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), needed);
        Process list = new ProcessBuilder(root.resolve("runtime/bin/java").toString(), "--list-modules").start();
        Set<String> present = new TreeSet<>();
        for (String line : new String(list.getInputStream().readAllBytes()).split("\n")) {
            present.add(line.replaceAll("@.*", "").strip());
        }
        assertEquals(0, list.waitFor());
        Set<String> missing = new TreeSet<>(List.of(needed.split(",")));
        missing.removeAll(present);
        assertEquals(Set.of(), missing, "modules the jars need that the runtime lacks (release.modules in packaging/pom.xml)");
        assertTrue(!present.contains("jdk.compiler") && !present.contains("jdk.jdeps"), "a JDK, not a runtime: " + present);

        for (String options : List.of("jvm.options", "intake.jvm.options", "shipper.jvm.options")) {
            String text = Files.readString(root.resolve("app").resolve(options));
            assertTrue(!text.isBlank() && !text.contains("${") && !text.contains("/target/") && !text.contains("/work/"),
                    options + " is not relocatable or not filtered: " + text);
        }
    }

    @Test
    void itCarriesTheLicencesTheNativeProbeAndValidExampleConfigs() throws Exception {
        assertTrue(Files.readString(root.resolve("LICENSE")).contains("Apache License"));
        assertTrue(Files.readString(root.resolve("completion/holdfast-completion.bash"))
                .contains("complete -F _complete_holdfast"), "the bash completion script is in the release");
        String thirdParty = Files.readString(root.resolve("THIRD-PARTY.txt"));
        try (var jars = Files.list(root.resolve("app/lib"))) {
            for (Path jar : jars.toList()) {
                String artifact = jar.getFileName().toString().replaceFirst("-\\d.*$", "");
                if (!artifact.startsWith("holdfast-")) {
                    assertTrue(thirdParty.contains(":" + artifact + ":"), "THIRD-PARTY.txt does not list " + jar.getFileName());
                }
            }
        }
        Path shipperJar;
        try (var jars = Files.list(root.resolve("app/lib"))) {
            shipperJar = jars.filter(j -> j.getFileName().toString().startsWith("holdfast-ebpf-shipper-")).findFirst()
                    .orElseThrow();
        }
        Path library = Files.createTempFile("libholdfast_ebpf", ".so");
        try (ZipFile zip = new ZipFile(shipperJar.toFile())) {
            var entry = zip.getEntry("native/libholdfast_ebpf.so");
            assertNotNull(entry, "the eBPF probe's JNI library");
            try (var in = zip.getInputStream(entry)) {
                Files.copy(in, library, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        // libbpf is linked in: a node needs no matching libbpf installed (the Containerfile installs none)
        Process readelf = new ProcessBuilder("readelf", "-d", library.toString()).redirectErrorStream(true).start();
        String dynamic = new String(readelf.getInputStream().readAllBytes());
        assertEquals(0, readelf.waitFor(), dynamic);
        assertTrue(dynamic.contains("(NEEDED)") && !dynamic.contains("libbpf"),
                "the JNI library needs a shared libbpf (was the build offline? ebpf-shipper/README.md):\n" + dynamic);
        Files.delete(library);
        for (String kind : List.of("intake", "shipper")) {
            Result r = run(Duration.ofSeconds(60), "validate", "--config",
                    root.resolve("examples").resolve(kind + ".yaml").toString(), "--kind", kind);
            assertEquals(0, r.exit(), kind + ": " + r.output());
        }
        // the documentation the systemd units point to is where they say
        Pattern doc = Pattern.compile("Documentation=file:/opt/holdfast/(\\S+)");
        try (var units = Files.list(root.resolve("systemd"))) {
            for (Path unit : units.toList()) {
                Matcher m = doc.matcher(Files.readString(unit));
                assertTrue(m.find(), unit + " names no documentation");
                assertTrue(Files.isRegularFile(root.resolve(m.group(1))), unit + ": " + m.group(1));
            }
        }
    }

    @Test
    void intakeShipperBenchAndWalVerifyRunFromTheRelease() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "release-ca");
        TestPki.Issued cert = pki.server("localhost", "localhost", "127.0.0.1");
        Path data = tmp.resolve("intake-data");
        Path watched = Files.createDirectories(tmp.resolve("watched")).toRealPath();
        int grpc = FreePorts.next();
        int http = FreePorts.next();
        int metrics = FreePorts.next();
        int noKafka = FreePorts.next(); // the forwarder runs (RocksDB's native library, Kafka's client) and retries
        String[] tlsClient = {"--tls-ca", pki.caCert().toString(), "--tls-server-name", "localhost"};

        try (Running intake = start("intake", "intake", "--data", data.toString(), "--grpc-port", "" + grpc,
                "--http-port", "" + http, "--otlp-http-port", "0", "--durability", "fsync", "--kafka", "127.0.0.1:" + noKafka,
                "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString())) {
            awaitHttp(http, "/readyz", intake, Duration.ofSeconds(60));

            List<String> shipperArgs = new ArrayList<>(List.of("shipper", "--intake", "127.0.0.1:" + grpc,
                    "--watch", watched.toString(), "--spool", tmp.resolve("spool").toString(), "--agent-id", "release-it",
                    "--metrics-port", "" + metrics, "--source", "fallback", "--status-interval", "0"));
            shipperArgs.addAll(List.of(tlsClient));
            try (Running shipper = start("shipper", shipperArgs.toArray(String[]::new))) {
                awaitHttp(metrics, "/readyz", shipper, Duration.ofSeconds(60));
                for (int i = 0; i < 20; i++) {
                    Files.writeString(watched.resolve("f" + i + ".txt"), "event " + i);
                }
                awaitMetricAtLeast(metrics, "holdfast_shipper_acknowledged_events_total", 20, shipper);
                shipper.stop();
            }

            Path acked = tmp.resolve("acked.log");
            List<String> bench = new ArrayList<>(List.of("bench", "ingest", "--target", "127.0.0.1:" + grpc,
                    "--agents", "2", "--batches", "5", "--acked-log", acked.toString()));
            bench.addAll(List.of(tlsClient));
            Result b = run(Duration.ofMinutes(2), bench.toArray(String[]::new));
            assertEquals(0, b.exit(), b.output());
            try (var lines = Files.lines(acked)) {
                assertEquals(10, lines.count(), "2 agents x 5 batches acknowledged: " + b.output());
            }
            intake.stop();
        }

        assertTrue(Files.isRegularFile(data.resolve("forwarder/progress/CURRENT")), "the forwarder's RocksDB store");
        Result verify = run(Duration.ofMinutes(2), "wal", "verify", "--data", data.toString());
        assertEquals(0, verify.exit(), verify.output());
        Matcher records = Pattern.compile("records verified: (\\d+)").matcher(verify.output());
        assertTrue(records.find(), verify.output());
        assertTrue(Long.parseLong(records.group(1)) > 10, "the shipper's and the bench's batches: " + verify.output());
    }

    // ---- running bin/holdfast ----

    record Result(int exit, String output) {
    }

    private static ProcessBuilder holdfast(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(root.resolve("bin/holdfast").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        return pb;
    }

    private static Result run(Duration timeout, String... args) throws Exception {
        Path out = Files.createTempFile(tmp, "run", ".log");
        Process p = holdfast(args).redirectOutput(out.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail("bin/holdfast " + String.join(" ", args) + " did not finish in " + timeout + ": " + Files.readString(out));
        }
        return new Result(p.exitValue(), Files.readString(out));
    }

    private static Running start(String name, String... args) throws IOException {
        Path log = tmp.resolve(name + ".log");
        return new Running(holdfast(args).redirectOutput(log.toFile()).start(), log);
    }

    record Running(Process process, Path logFile) implements AutoCloseable {
        String log() throws IOException {
            return Files.readString(logFile);
        }

        /** SIGTERM: the process stops by itself, as the JVM does on SIGTERM once its shutdown hooks ran (143). */
        void stop() throws Exception {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                fail("did not stop on SIGTERM: " + log());
            }
            assertTrue(List.of(0, 143).contains(process.exitValue()), "exit " + process.exitValue() + ": " + log());
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }


    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    private static String get(int port, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? r.body() : null;
    }

    private static void awaitHttp(int port, String path, Running proc, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!proc.process().isAlive()) {
                fail("exited with " + proc.process().exitValue() + ": " + proc.log());
            }
            try {
                if (get(port, path) != null) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        fail(path + " on " + port + " not 200 within " + timeout + ": " + proc.log());
    }

    private static void awaitMetricAtLeast(int port, String name, double atLeast, Running proc) throws Exception {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$", Pattern.MULTILINE);
        double last = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String body = get(port, "/metrics");
            Matcher m = body == null ? null : line.matcher(body);
            if (m != null && m.find()) {
                last = Double.parseDouble(m.group(2));
                if (last >= atLeast) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        fail(name + " stayed at " + last + ", below " + atLeast + ": " + proc.log());
    }
}
