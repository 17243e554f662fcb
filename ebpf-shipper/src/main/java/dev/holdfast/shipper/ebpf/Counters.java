package dev.holdfast.shipper.ebpf;

/**
 * The probe's per-CPU counters, summed. {@code seen} counts syscalls of interest that got past the cheap checks to
 * the path filters (opens of regular files for writing outside directories with a cached verdict, first writes,
 * closes of written files, path syscalls); each {@code filtered*} counts events dropped in the kernel for that reason;
 * {@code dropped} counts records lost because the ring buffer was full; {@code stashFull} counts CLOSE_WRITEs lost
 * because the in-flight close table was full; {@code writesFolded} counts writes folded into an earlier MODIFY.
 */
public record Counters(long seen, long filteredSelf, long filteredComm, long filteredFailed, long filteredReadOnly,
                       long filteredNotRegular, long filteredPrefixExcluded, long filteredNotIncluded,
                       long filteredNameExcluded, long filteredNameNotIncluded, long emitted, long dropped,
                       long stashFull, long writesFolded) {

    static Counters of(long[] c) {
        return new Counters(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
    }

    /** Index count the native side must report (HF_C__COUNT). */
    static final int COUNT = 14;
}
