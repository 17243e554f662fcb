package dev.holdfast.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built `holdfast` CLI as a separate OS process, the way an operator would. */
final class HoldfastProcess implements AutoCloseable {
    private final Process process;
    final Path log;

    private HoldfastProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static Path jar() {
        Path jar = Path.of("target", "holdfast.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: integration tests run after `package` (mvn verify)");
        }
        return jar;
    }

    static List<String> command(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : Files.readString(Path.of("target", "jvm.options")).trim().split("\\s+")) {
            cmd.add(flag);
        }
        cmd.add("-Xmx512m");
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    static HoldfastProcess start(Path log, String... args) throws IOException {
        Process p = new ProcessBuilder(command(args)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new HoldfastProcess(p, log);
    }

    /** Runs to completion and returns stdout; stderr goes to the log. */
    static Result run(Path log, Duration timeout, String... args) throws Exception {
        Path out = Files.createTempFile(log.getParent(), "out", ".txt");
        Process p = new ProcessBuilder(command(args)).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("holdfast " + String.join(" ", args) + " did not finish in " + timeout);
        }
        return new Result(p.exitValue(), Files.readString(out));
    }

    record Result(int exitCode, String stdout) {
    }

    /** SIGKILL: no shutdown hook, no flush, no close. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then wait for a clean exit. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("process did not stop on SIGTERM");
        }
        return process.exitValue();
    }

    boolean alive() {
        return process.isAlive();
    }

    Process process() {
        return process;
    }

    /** Polls /readyz until 200; returns milliseconds waited, or throws after the timeout. */
    static long awaitReady(int httpPort, Duration timeout, HoldfastProcess proc) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (proc != null && !proc.alive()) {
                throw new AssertionError("process exited with " + proc.process.exitValue() + "; log: "
                        + Files.readString(proc.log));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/readyz"))
                        .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return (System.nanoTime() - t0) / 1_000_000;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(10);
        }
        throw new AssertionError("not ready within " + timeout);
    }

    /** Lines in a file written by another process (an ack log), 0 before it exists. */
    static long lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (var s = Files.lines(file)) {
            return s.count();
        }
    }


    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
