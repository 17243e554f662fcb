package dev.holdfast.cli.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Appends {@code agent_id seq} per acknowledged batch. Crash tests compare this file with what the
 * intake recovered, so lines are written only when an ack arrives and are flushed to the OS at
 * least every {@link #FLUSH_INTERVAL_MS} ms: a SIGKILLed bench then loses at most that much, and a
 * crashed intake cannot make the file claim more than it acknowledged.
 */
final class AckedLog implements AckSink {

    static final long FLUSH_INTERVAL_MS = 50;

    private final BufferedWriter writer;
    private final ScheduledExecutorService flusher;
    private final ScheduledFuture<?> flushTask;
    private IOException failure;
    private boolean closed;

    private AckedLog(BufferedWriter writer) {
        this.writer = writer;
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "acked-log-flusher");
            t.setDaemon(true);
            return t;
        });
        this.flushTask = flusher.scheduleWithFixedDelay(this::flush, FLUSH_INTERVAL_MS, FLUSH_INTERVAL_MS,
                TimeUnit.MILLISECONDS);
    }

    static AckedLog open(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new AckedLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open acked log " + file, e);
        }
    }

    @Override
    public synchronized void acknowledged(String agentId, long batchSeq) {
        if (closed || failure != null) {
            return;
        }
        try {
            writer.write(agentId);
            writer.write(' ');
            writer.write(Long.toUnsignedString(batchSeq));
            writer.write('\n');
        } catch (IOException e) {
            failure = e;
        }
    }

    private synchronized void flush() {
        if (closed || failure != null) {
            return;
        }
        try {
            writer.flush();
        } catch (IOException e) {
            failure = e;
        }
    }

    /** Flushes and closes; reports a write failure here so the run cannot silently lose records. */
    @Override
    public void close() {
        flushTask.cancel(false);
        flusher.shutdown();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                writer.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                }
            }
            if (failure != null) {
                throw new UncheckedIOException("acked log write failed", failure);
            }
        }
    }
}
