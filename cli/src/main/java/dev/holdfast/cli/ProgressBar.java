package dev.holdfast.cli;

import dev.holdfast.config.ByteSizes;
import dev.holdfast.wal.ScanProgress;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on stderr for long WAL work ({@code wal verify}, {@code wal dump}, {@code wal replay}):
 * {@code verify [=======>      ]  48%  1.2 GiB / 2.5 GiB  412 MiB/s  ETA 0:03}, redrawn in place at most ten times a
 * second. Drawn only when stderr is a terminal: into a file or a pipe, a bar is noise, so it says nothing at all.
 */
final class ProgressBar implements ScanProgress, AutoCloseable {
    private static final int WIDTH = 24;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream err;
    private final String label;
    private final LongSupplier nanos;
    private final boolean enabled;
    private final long started;
    private long lastDrawn;
    private long done;
    private long total;
    private boolean drawn;

    ProgressBar(PrintStream err, String label, boolean enabled, LongSupplier nanos) {
        this.err = err;
        this.label = label;
        this.enabled = enabled;
        this.nanos = nanos;
        this.started = nanos.getAsLong();
        this.lastDrawn = started - REDRAW_NANOS; // the first figures are drawn at once
    }

    /** On {@code System.err}, drawn when it is a terminal. */
    static ProgressBar onStderr(String label) {
        return new ProgressBar(System.err, label, isTerminal(2), System::nanoTime);
    }

    /**
     * On {@code System.err} while stdout goes elsewhere ({@code wal dump > file}): drawn when stderr is a terminal and
     * stdout is not, so it never cuts into output on the same screen.
     */
    static ProgressBar onStderrBesideRedirectedOutput(String label) {
        return new ProgressBar(System.err, label, isTerminal(2) && !isTerminal(1), System::nanoTime);
    }

    /**
     * Whether a file descriptor of this process is a terminal. The JDK only says whether stdin and stdout both are
     * ({@code System.console()}); {@code wal verify 2>log} and {@code wal dump > file} need to know about each alone.
     */
    static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false; // not Linux, or no /proc: no bar rather than a guess
        }
    }

    @Override
    public void scanned(long bytesDone, long bytesTotal) {
        if (!enabled) {
            return;
        }
        done = bytesDone;
        total = bytesTotal;
        long now = nanos.getAsLong();
        if (now - lastDrawn >= REDRAW_NANOS) {
            lastDrawn = now;
            draw(now);
        }
    }

    /** The last figures, and the line ended so what follows starts on a line of its own. */
    @Override
    public void close() {
        if (enabled && (drawn || total > 0)) {
            draw(nanos.getAsLong());
            err.print('\n');
            err.flush();
        }
    }

    private void draw(long now) {
        err.print('\r' + line(done, total, now - started));
        err.flush();
        drawn = true;
    }

    /** The bar's text for {@code done} of {@code total} bytes after {@code elapsedNanos}. */
    String line(long done, long total, long elapsedNanos) {
        double fraction = total <= 0 ? 1 : Math.min(1, (double) done / total);
        int filled = (int) (fraction * WIDTH);
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && done < total ? clock((total - done) / rate) : "0:00";
        return String.format(Locale.ROOT, "%s [%s] %3d%%  %s / %s  %s/s  ETA %s ", label, bar,
                (int) (fraction * 100), ByteSizes.approximate(done), ByteSizes.approximate(total),
                ByteSizes.approximate((long) rate), eta);
    }

    private static String clock(double seconds) {
        long s = (long) Math.ceil(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
