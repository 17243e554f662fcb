package dev.holdfast.testkit;

import io.grpc.ConnectivityState;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A gRPC message body that announces {@code size} bytes, sends all but the last one, and then stalls until released:
 * what an attacker does to make a server hold a message it can never finish. Send it through a method built with
 * {@link #marshaller()}; the calling thread blocks in the send until {@code release} opens, then the call fails.
 *
 * <p>Two things about gRPC's client decide whether the bytes really leave: the call must start on a channel that is
 * already READY (else it is buffered and later written by a transport thread, which the stall would block), and
 * gRPC queues a message's bytes until its connection's write queue is flushed, which the stalled send never does:
 * {@link #flushEvery} makes other calls on the same channel do it.
 */
public final class StallingMessage extends InputStream implements KnownLength, Drainable {
    private static final int CHUNK = 64 << 10;
    private static final byte[] ZEROS = new byte[CHUNK];

    private final int size;
    private final CountDownLatch release;
    private final AtomicLong streamed;

    /** @param streamed where the bytes sent so far are added (shared by many messages) */
    public StallingMessage(int size, CountDownLatch release, AtomicLong streamed) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1: " + size);
        }
        this.size = size;
        this.release = release;
        this.streamed = streamed;
    }

    /** Passes a stream through unread, so that a method's request can be a StallingMessage. */
    public static MethodDescriptor.Marshaller<InputStream> marshaller() {
        return new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(InputStream value) {
                return value;
            }

            @Override
            public InputStream parse(InputStream stream) {
                return stream;
            }
        };
    }

    /** Waits until the channel is READY, so that a call started on it is written by its own thread (see above). */
    public static void awaitReady(ManagedChannel channel, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        ConnectivityState state;
        while ((state = channel.getState(true)) != ConnectivityState.READY) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the channel is " + state + ", not READY, after " + within);
            }
            Thread.sleep(10);
        }
    }

    /**
     * Runs {@code cheapCall} (any small call on the stalled messages' channel; its failures are ignored) every
     * {@code interval} on a daemon thread until {@code stop} opens: each call flushes the channel's write queue, and
     * with it the stalled messages' bytes.
     */
    public static Thread flushEvery(Duration interval, Runnable cheapCall, CountDownLatch stop) {
        Thread t = new Thread(() -> {
            try {
                while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                    try {
                        cheapCall.run();
                    } catch (RuntimeException e) {
                        // the connection may be gone: that is what the attack is about
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stalling-message-flusher");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public int available() {
        return size; // gRPC writes this as the message's length
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
        for (int left = size - 1; left > 0; left -= CHUNK) {
            int n = Math.min(left, CHUNK);
            target.write(ZEROS, 0, n);
            streamed.addAndGet(n);
        }
        target.flush();
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IOException("the stalled message was released");
    }

    @Override
    public int read() throws IOException {
        throw new IOException("drained, not read");
    }
}
