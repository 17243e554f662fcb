package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Samples how far the agents' ack logs have grown, every 100 ms: the longest stretch without a single new
 * acknowledgement (max ack gap), how long after a fault ended acks resumed (recovery time), and acks per second.
 */
public final class AckTimeline implements AutoCloseable {
    private record Sample(long millis, long acks) {
    }

    /** An ack log and how much of it was counted: only new bytes are read at each sample. */
    private static final class Tail {
        final Path file;
        long offset;
        long lines;

        Tail(Path file) {
            this.file = file;
        }
    }

    private final List<Tail> ackLogs = new CopyOnWriteArrayList<>();
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final long startMillis = System.currentTimeMillis();
    private final Thread sampler;
    private volatile boolean running = true;

    public AckTimeline() {
        sampler = new Thread(() -> {
            while (running) {
                samples.add(new Sample(System.currentTimeMillis(), totalAcks()));
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "ack-timeline");
        sampler.setDaemon(true);
        sampler.start();
    }

    public void watch(Path ackLog) {
        ackLogs.add(new Tail(ackLog));
    }

    /** Complete lines (acknowledged batches) in all ack logs. */
    private long totalAcks() {
        long total = 0;
        for (Tail t : ackLogs) {
            try (var ch = Files.newByteChannel(t.file)) {
                ch.position(t.offset);
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 * 1024);
                int n;
                long lastNewline = -1;
                long pos = t.offset;
                while ((n = ch.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf.get(i) == '\n') {
                            t.lines++;
                            lastNewline = pos + i;
                        }
                    }
                    pos += n;
                    buf.clear();
                }
                if (lastNewline >= 0) {
                    t.offset = lastNewline + 1;
                }
            } catch (IOException e) {
                // not created yet: counts as empty
            }
            total += t.lines;
        }
        return total;
    }

    /** Longest time between two samples that saw the ack logs grow, between the first and the last ack. */
    public long maxAckGapMillis() {
        long last = -1;
        long lastAcks = 0;
        long max = 0;
        for (Sample s : samples) {
            if (s.acks() > lastAcks) {
                if (last >= 0) {
                    max = Math.max(max, s.millis() - last);
                }
                last = s.millis();
                lastAcks = s.acks();
            }
        }
        return max;
    }

    /** Milliseconds from {@code sinceMillis} until the ack logs next grew, or -1 if they never did. */
    public long firstAckAfter(long sinceMillis) {
        long acksAt = 0;
        for (Sample s : samples) {
            if (s.millis() <= sinceMillis) {
                acksAt = s.acks();
            } else if (s.acks() > acksAt) {
                return s.millis() - sinceMillis;
            }
        }
        return -1;
    }

    /**
     * {@link #firstAckAfter} once an ack came after {@code sinceMillis}, waiting for it up to {@code timeoutMillis}
     * after that instant: a scenario that once slept that long and then looked returns as soon as there is one.
     */
    public long awaitAckAfter(long sinceMillis, long timeoutMillis) throws InterruptedException {
        long after;
        while ((after = firstAckAfter(sinceMillis)) < 0 && System.currentTimeMillis() < sinceMillis + timeoutMillis) {
            Thread.sleep(50);
        }
        return after;
    }

    /** Batches acknowledged in each second since the timeline started: availability over time. */
    public List<Long> acksPerSecond() {
        List<Long> out = new ArrayList<>();
        long second = 0;
        long prev = 0;
        long lastAcks = 0;
        for (Sample s : samples) {
            long sec = (s.millis() - startMillis) / 1000;
            while (second < sec) {
                out.add(lastAcks - prev);
                prev = lastAcks;
                second++;
            }
            lastAcks = s.acks();
        }
        return out;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
