package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set size of a process, from /proc/PID/status (what the kernel charges it, in bytes). */
public final class Rss implements AutoCloseable {
    private final long pid;
    private final Thread sampler;
    private volatile long peak;
    private volatile boolean stopped;

    /** Starts sampling every 50 ms; {@link #peak()} is the largest seen since. */
    public Rss(long pid) {
        this.pid = pid;
        this.peak = now(pid);
        this.sampler = new Thread(() -> {
            while (!stopped) {
                peak = Math.max(peak, now(pid));
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rss-" + pid);
        sampler.setDaemon(true);
        sampler.start();
    }

    public long peak() {
        return Math.max(peak, now(pid));
    }

    public long current() {
        return now(pid);
    }

    /** VmRSS in bytes, or 0 when the process is gone. */
    public static long now(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        sampler.interrupt();
        sampler.join();
    }
}
