package dev.holdfast.wal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

final class WalTestSupport {
    private WalTestSupport() {
    }

    static BatchHeader header(String agent, long seq, BatchPriority p) {
        return new BatchHeader(agent, seq, 3, p, 1_700_000_000_000_000_000L + seq);
    }

    /** A recognisable payload: "batch:<agent>:<seq>:" repeated to the given size. */
    static byte[] payload(String agent, long seq, int size) {
        byte[] unit = ("batch:" + agent + ":" + seq + ":").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) out[i] = unit[i % unit.length];
        return out;
    }

    static List<WalReader.Entry> readAll(Wal wal) {
        List<WalReader.Entry> out = new ArrayList<>();
        try (WalReader r = wal.newReader()) {
            WalReader.Entry e;
            while ((e = r.next()) != null) out.add(e);
        }
        return out;
    }

    /** Waits (up to 10 s) until the writer has appended {@code n} records, and fails if it has not. */
    static void awaitRecords(Wal wal, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (readAll(wal).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        org.junit.jupiter.api.Assertions.assertEquals(n, readAll(wal).size(), "records appended");
    }

    static Path onlySegment(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            List<Path> segs = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            if (segs.size() != 1) throw new IllegalStateException("expected one segment, found " + segs);
            return segs.get(0);
        }
    }

    /** Byte offset of the first occurrence of needle in the file. */
    static long find(Path file, byte[] needle) throws IOException {
        byte[] all = Files.readAllBytes(file);
        outer:
        for (int i = 0; i + needle.length <= all.length; i++) {
            for (int j = 0; j < needle.length; j++) if (all[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    static void flipBit(Path file, long at, int bit) throws IOException {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ (1 << bit));
        }
    }

    static void overwrite(Path file, long at, byte[] bytes) throws IOException {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            f.write(bytes);
        }
    }

    /** Runs {@link TornWriter} in its own JVM, which appends and then halts mid-record, like a SIGKILL. */
    static void runTornWriter(Path dir, int records) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TornWriter.class.getName());
        cmd.add(dir.toString());
        cmd.add(Integer.toString(records));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolveSibling("torn-writer.log").toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("torn writer did not finish");
        }
        if (p.exitValue() != 42) {
            throw new IllegalStateException("torn writer exited " + p.exitValue() + ": "
                    + Files.readString(dir.resolveSibling("torn-writer.log")));
        }
    }

    /** KiB of {@code file} resident in this process's mappings of it ({@code /proc/self/smaps}). */
    /** KiB of the file in the page cache, as util-linux's fincore counts them. */
    static long cachedKib(Path file) throws java.io.IOException, InterruptedException {
        Process p = new ProcessBuilder("fincore", "--bytes", "--noheadings", "--output", "RES", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0 || !out.matches("[0-9]+")) {
            throw new java.io.IOException("fincore " + file + ": " + out);
        }
        return Long.parseLong(out) >> 10;
    }

    static long residentKib(Path file) throws java.io.IOException {
        long kib = 0;
        boolean in = false;
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.endsWith(" " + file);
            } else if (in && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kib;
    }
}
