package dev.holdfast.shipper.ebpf;

import java.time.Duration;
import java.util.Objects;

/**
 * Load-time settings of an {@link EbpfProbe}.
 *
 * @param ringBufferBytes  ring buffer size: a power of two, at least 4096 (default 8 MiB)
 * @param filters          initial in-kernel filters
 * @param excludeSelf      drop this JVM's own file activity (by tgid) in the kernel (default true)
 * @param emitReads        emit OPEN for read-only opens too (default false: plain reads are ignored)
 * @param modifyInterval   ZERO: one MODIFY per opened file (at its first write); otherwise at most one MODIFY
 *                         per open file per interval
 */
public record ProbeConfig(int ringBufferBytes, Filters filters, boolean excludeSelf, boolean emitReads,
                          Duration modifyInterval) {

    public static final int DEFAULT_RING_BYTES = 8 << 20;

    public ProbeConfig {
        Objects.requireNonNull(filters, "filters");
        Objects.requireNonNull(modifyInterval, "modifyInterval");
        if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
            throw new IllegalArgumentException("ringBufferBytes: " + ringBufferBytes + " must be a power of two >= 4096");
        }
        if (modifyInterval.isNegative()) {
            throw new IllegalArgumentException("modifyInterval must not be negative");
        }
    }

    public static ProbeConfig defaults() {
        return new ProbeConfig(DEFAULT_RING_BYTES, Filters.defaults(), true, false, Duration.ZERO);
    }

    public ProbeConfig withRingBufferBytes(int v) {
        return new ProbeConfig(v, filters, excludeSelf, emitReads, modifyInterval);
    }

    public ProbeConfig withFilters(Filters v) {
        return new ProbeConfig(ringBufferBytes, v, excludeSelf, emitReads, modifyInterval);
    }
}
