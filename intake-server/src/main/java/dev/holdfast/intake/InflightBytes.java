package dev.holdfast.intake;

import java.util.concurrent.Semaphore;

/**
 * Admission bound on bytes received but not yet acknowledged. Never blocks: a batch that does not fit is answered
 * RETRY_LATER, so memory stays bounded however many agents push at once.
 */
public final class InflightBytes {
    private static final int UNIT = 1024; // permits are KiB so that large limits fit an int
    private final Semaphore permits;
    private final long limitBytes;

    public InflightBytes(long limitBytes) {
        this.limitBytes = limitBytes;
        this.permits = new Semaphore((int) Math.min(Integer.MAX_VALUE, limitBytes / UNIT));
    }

    /** Reserves room for a batch; returns the ticket to release, or -1 when full. */
    public int tryAcquire(int bytes) {
        int units = Math.max(1, (bytes + UNIT - 1) / UNIT);
        return permits.tryAcquire(units) ? units : -1;
    }

    public void release(int ticket) {
        permits.release(ticket);
    }

    public long inUseBytes() {
        return limitBytes - (long) permits.availablePermits() * UNIT;
    }
}
