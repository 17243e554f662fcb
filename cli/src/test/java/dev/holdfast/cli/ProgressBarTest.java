package dev.holdfast.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Test
    void theLineSaysDoneTotalRateAndEta() {
        ProgressBar bar = new ProgressBar(err, "verifying", true, nanos::get);
        // 1 GiB of 4 GiB in 2 s: 512 MiB/s, 3 GiB left, 6 s to go
        assertEquals("verifying [======>                 ]  25%  1.0 GiB / 4.0 GiB  512.0 MiB/s  ETA 0:06 ",
                bar.line(1L << 30, 4L << 30, 2_000_000_000L));
        assertEquals("verifying [========================] 100%  4.0 GiB / 4.0 GiB  1.0 GiB/s  ETA 0:00 ",
                bar.line(4L << 30, 4L << 30, 4_000_000_000L));
        // 1 MiB of 100 GiB in 1 s: 102,399 s to go
        assertTrue(bar.line(1L << 20, 100L << 30, 1_000_000_000L).endsWith("1.0 MiB/s  ETA 28:26:39 "),
                bar.line(1L << 20, 100L << 30, 1_000_000_000L));
    }

    @Test
    void redrawsInPlaceAtMostTenTimesASecondAndEndsTheLine() {
        try (ProgressBar bar = new ProgressBar(err, "dumping", true, nanos::get)) {
            for (int i = 1; i <= 1000; i++) { // a record every millisecond for a second
                nanos.addAndGet(1_000_000L);
                bar.scanned(i, 1000);
            }
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        long frames = out.chars().filter(c -> c == '\r').count();
        assertTrue(frames >= 10 && frames <= 12, frames + " frames: " + out);
        assertTrue(out.endsWith("100%  1000 B / 1000 B  1000 B/s  ETA 0:00 \n"), out);
    }

    @Test
    void saysNothingWhenNotOnATerminal() {
        try (ProgressBar bar = new ProgressBar(err, "verifying", false, nanos::get)) {
            bar.scanned(5, 10);
            nanos.addAndGet(1_000_000_000L);
            bar.scanned(10, 10);
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
