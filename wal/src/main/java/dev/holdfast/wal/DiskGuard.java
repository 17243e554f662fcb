package dev.holdfast.wal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Keeps mapped writes away from a full disk. Chronicle writes through memory-mapped files, and a page fault on a
 * full file system is a SIGBUS that kills the JVM, so every append must be known to fit before it is made.
 *
 * <p>The budget is the smaller of the configured WAL size limit and what the file system can give while keeping
 * {@code minFreeBytes} free. As the WAL fills that budget it sheds BULK above the bulk watermark, NORMAL above the
 * normal watermark, and CRITICAL only when the next write would not fit at all.
 */
public final class DiskGuard {
    public enum Pressure {
        OK, SHED_BULK, SHED_NORMAL, FULL;

        /** Whether batches of this priority are refused at this pressure: BULK first, then NORMAL, CRITICAL last. */
        public boolean sheds(BatchPriority priority) {
            return switch (this) {
                case OK -> false;
                case SHED_BULK -> priority == BatchPriority.BULK;
                case SHED_NORMAL -> priority != BatchPriority.CRITICAL;
                case FULL -> true;
            };
        }
    }

    public record Limits(long maxBytes, long minFreeBytes, double bulkWatermark, double normalWatermark,
                         long retryAfterMs) {
        public Limits {
            if (maxBytes <= 0) throw new IllegalArgumentException("maxBytes must be positive");
            if (minFreeBytes < 0) throw new IllegalArgumentException("minFreeBytes must not be negative");
            if (!(bulkWatermark > 0 && bulkWatermark <= normalWatermark && normalWatermark < 1)) {
                throw new IllegalArgumentException("need 0 < bulkWatermark <= normalWatermark < 1");
            }
        }
    }

    /** While batches are being refused, free space is re-read at most this often (a statfs per refusal is waste). */
    static final long REFRESH_WHILE_REFUSING_NANOS = 500_000_000L;

    private final Limits limits;
    private final LongSupplier usableSpace;
    private final LongSupplier nanoClock;
    private volatile long refreshedAtNanos;
    private final AtomicLong walBytes = new AtomicLong();
    private final AtomicLong writtenSinceRefresh = new AtomicLong();
    private volatile long usableAtRefresh;
    /** Size of the last CRITICAL batch refused; while it still would not fit, the WAL counts as full. */
    private volatile long refusedCriticalBytes;

    public DiskGuard(Limits limits, LongSupplier usableSpace, long initialWalBytes) {
        this(limits, usableSpace, initialWalBytes, System::nanoTime);
    }

    DiskGuard(Limits limits, LongSupplier usableSpace, long initialWalBytes, LongSupplier nanoClock) {
        this.limits = limits;
        this.usableSpace = usableSpace;
        this.nanoClock = nanoClock;
        this.walBytes.set(initialWalBytes);
        refresh();
    }

    /** Usable space of the file system holding {@code dir}. */
    public static LongSupplier usableSpaceOf(Path dir) {
        try {
            FileStore store = Files.getFileStore(dir);
            return () -> {
                try {
                    return store.getUsableSpace();
                } catch (IOException e) {
                    return 0; // cannot tell: behave as full rather than risk a SIGBUS
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat file system of " + dir, e);
        }
    }

    /** Re-reads free space; the writer calls it once per group commit, {@link #refusal} while it refuses. */
    public void refresh() {
        usableAtRefresh = usableSpace.getAsLong();
        writtenSinceRefresh.set(0);
        refreshedAtNanos = nanoClock.getAsLong();
    }

    public void onAppended(long bytes) {
        walBytes.addAndGet(bytes);
        writtenSinceRefresh.addAndGet(bytes);
    }

    /** Retention deleted a segment: its bytes count against neither the size limit nor the disk any more. */
    public void onDeleted(long bytes) {
        walBytes.addAndGet(-bytes);
        writtenSinceRefresh.addAndGet(-bytes);
    }

    public long walBytes() {
        return walBytes.get();
    }

    public long freeBytes() {
        return Math.max(0, usableAtRefresh - writtenSinceRefresh.get());
    }

    /** Bytes the WAL may hold in total right now. */
    public long budgetBytes() {
        long byDisk = walBytes.get() + freeBytes() - limits.minFreeBytes();
        return Math.max(0, Math.min(limits.maxBytes(), byDisk));
    }

    /** Current pressure. FULL also while the last refused CRITICAL batch still would not fit. */
    public Pressure pressure() {
        long refused = refusedCriticalBytes;
        if (refused > 0 && pressureWith(refused) == Pressure.FULL) {
            return Pressure.FULL;
        }
        return pressureWith(0);
    }

    private Pressure pressureWith(long extraBytes) {
        long budget = budgetBytes();
        long used = walBytes.get() + extraBytes;
        if (budget <= 0 || used > budget) return Pressure.FULL;
        double usage = (double) used / budget;
        if (usage >= limits.normalWatermark()) return Pressure.SHED_NORMAL;
        if (usage >= limits.bulkWatermark()) return Pressure.SHED_BULK;
        return Pressure.OK;
    }

    /** Null when a batch of this priority and size may be written now, else the reason it may not. */
    public String refusal(BatchPriority priority, long bytes) {
        Pressure after = pressureWith(bytes);
        if (after != Pressure.OK && nanoClock.getAsLong() - refreshedAtNanos >= REFRESH_WHILE_REFUSING_NANOS) {
            // A WAL that refuses everything writes nothing, so no group commit re-reads the disk: without this,
            // space freed by someone else would never be noticed and the intake would shed until restarted.
            refresh();
            after = pressureWith(bytes);
        }
        boolean refused = after.sheds(priority);
        if (priority == BatchPriority.CRITICAL) {
            refusedCriticalBytes = refused ? bytes : 0;
        }
        if (!refused) return null;
        return String.format("WAL disk pressure %s: %d of %d budget bytes used (limit %d, free %d, keep free %d); %s batches are shed",
                after, walBytes.get(), budgetBytes(), limits.maxBytes(), freeBytes(), limits.minFreeBytes(),
                priority.name());
    }

    public long retryAfterMs() {
        return limits.retryAfterMs();
    }

    public Limits limits() {
        return limits;
    }
}
