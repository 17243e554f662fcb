package dev.holdfast.shipper.ebpf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * The kernel half of the node agent: eBPF programs on the sys_enter/sys_exit raw tracepoints that report file
 * activity with absolute paths resolved in the kernel, filtered in the kernel, through one ring buffer.
 *
 * <p>Lifecycle: {@link #load(ProbeConfig)} (verifies and loads, nothing attached yet), {@link #attach()}
 * (events start), {@link #drain(ByteBuffer)}/{@link #poll(ByteBuffer, int)} from ONE thread,
 * {@link #updateFilters(Filters)} and {@link #counters()} from any thread, {@link #close()} (detach and free).
 * Needs root (or CAP_BPF + CAP_PERFMON).
 */
public final class EbpfProbe implements AutoCloseable {
    /** The smallest drain buffer: one maximal record (two 4095-byte paths) plus its length word. */
    public static final int MIN_BUFFER = 4 + KernelEvent.HEADER + 2 * (KernelEvent.PATH_MAX - 1);

    private static final int CFG_EMIT_READS = 0x1;
    private static final int CFG_FILTER_SELF = 0x2;
    /** The kernel may cache a directory's prefix verdict: sound only when every prefix ends at a '/'. */
    private static final int CFG_DIR_CACHE = 0x4;
    /** Some name filter is set: without one, the probe skips its basename and extension lookups. */
    private static final int CFG_NAMES = 0x8;

    private final ProbeConfig config;
    private final Object lock = new Object();
    private long handle;
    private boolean attached;
    private Filters filters = new Filters(Set.of(), Set.of(), Set.of(), Set.of(), Set.of());
    private final long bootToRealtime;

    private EbpfProbe(ProbeConfig config, long handle) {
        this.config = config;
        this.handle = handle;
        this.bootToRealtime = NativeProbe.bootToRealtimeOffsetNanos();
    }

    /**
     * Loads the programs and maps into the kernel (the verifier runs here) and installs the filters.
     *
     * @throws EbpfUnavailableException with one line saying why eBPF cannot be used here
     */
    public static EbpfProbe load(ProbeConfig config) throws EbpfUnavailableException {
        NativeProbe.ensureLoaded();
        long h = NativeProbe.load(config.ringBufferBytes());
        EbpfProbe p = new EbpfProbe(config, h);
        try {
            p.updateFilters(config.filters());
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** {@link #load(ProbeConfig)} then {@link #attach()}. */
    public static EbpfProbe open(ProbeConfig config) throws EbpfUnavailableException {
        EbpfProbe p = load(config);
        try {
            return p.attach();
        } catch (EbpfUnavailableException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Attaches both programs to their raw tracepoints (sys_enter, sys_exit); events flow from here on. */
    public EbpfProbe attach() throws EbpfUnavailableException {
        synchronized (lock) {
            checkOpen();
            if (!attached) {
                NativeProbe.attach(handle);
                attached = true;
            }
            return this;
        }
    }

    /** Replaces the in-kernel filters (a diff is applied: entries present in both stay in place). */
    public void updateFilters(Filters next) {
        synchronized (lock) {
            checkOpen();
            Filters prev = filters;
            sync(prev.includePrefixes(), next.includePrefixes(), p -> NativeProbe.prefix(handle, false, bytes(p), true),
                    p -> NativeProbe.prefix(handle, false, bytes(p), false));
            sync(prev.excludePrefixes(), next.excludePrefixes(), p -> NativeProbe.prefix(handle, true, bytes(p), true),
                    p -> NativeProbe.prefix(handle, true, bytes(p), false));
            Set<String> prevNames = new HashSet<>(prev.includeNames());
            prevNames.addAll(prev.excludeNames());
            for (String n : prevNames) {
                if (!next.includeNames().contains(n) && !next.excludeNames().contains(n)) {
                    NativeProbe.name(handle, bytes(n), 0);
                }
            }
            for (String n : next.excludeNames()) {
                NativeProbe.name(handle, bytes(n), 1);
            }
            for (String n : next.includeNames()) {
                NativeProbe.name(handle, bytes(n), 2);
            }
            sync(prev.excludeComms(), next.excludeComms(), c -> NativeProbe.comm(handle, bytes(c), true),
                    c -> NativeProbe.comm(handle, bytes(c), false));
            int flags = (config.emitReads() ? CFG_EMIT_READS : 0) | (config.excludeSelf() ? CFG_FILTER_SELF : 0);
            if (java.util.stream.Stream.concat(next.includePrefixes().stream(), next.excludePrefixes().stream())
                    .allMatch(p -> p.endsWith("/"))) {
                flags |= CFG_DIR_CACHE;
            }
            if (!next.includeNames().isEmpty() || !next.excludeNames().isEmpty()) {
                flags |= CFG_NAMES;
            }
            NativeProbe.config(handle, (int) ProcessHandle.current().pid(), flags, next.includePrefixes().size(),
                    next.includeNames().size(), config.modifyInterval().toNanos());
            filters = next;
        }
    }

    public Filters filters() {
        synchronized (lock) {
            return filters;
        }
    }

    /**
     * Copies the records that are ready (never blocks) into {@code direct} as [u32 length][record]... in ONE
     * native call; leaves the buffer at position 0, limit = bytes written. Decode with
     * {@link KernelEvent#decodeAll}. A record that does not fit stays for the next call.
     *
     * @return the number of records copied
     */
    public int drain(ByteBuffer direct) {
        return poll(direct, 0);
    }

    /** Like {@link #drain} but waits up to {@code timeoutMillis} for the first record when none is ready. */
    public int poll(ByteBuffer direct, int timeoutMillis) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("drain needs a direct ByteBuffer");
        }
        if (direct.capacity() < MIN_BUFFER) {
            throw new IllegalArgumentException("drain buffer of " + direct.capacity() + " bytes; at least " + MIN_BUFFER + " needed");
        }
        synchronized (lock) {
            checkOpen();
            if (!attached) {
                throw new IllegalStateException("probe not attached");
            }
            long r;
            try {
                r = NativeProbe.drain(handle, direct, direct.capacity(), Math.max(0, timeoutMillis));
            } catch (EbpfUnavailableException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            direct.clear();
            direct.limit((int) (r & 0xffffffffL));
            return (int) (r >>> 32);
        }
    }

    public Counters counters() {
        synchronized (lock) {
            checkOpen();
            long[] c = new long[16];
            NativeProbe.counters(handle, c);
            return Counters.of(c);
        }
    }

    /** Add to {@link KernelEvent#tsBootNanos()} for wall-clock nanoseconds (measured at load). */
    public long bootToRealtimeOffsetNanos() {
        return bootToRealtime;
    }

    public ProbeConfig config() {
        return config;
    }

    /** Detaches every program and frees maps and the ring buffer. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (handle != 0) {
                NativeProbe.close(handle);
                handle = 0;
            }
        }
    }

    private void checkOpen() {
        if (handle == 0) {
            throw new IllegalStateException("probe closed");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sync(Set<String> prev, Set<String> next, java.util.function.Consumer<String> add,
                             java.util.function.Consumer<String> remove) {
        for (String p : prev) {
            if (!next.contains(p)) {
                remove.accept(p);
            }
        }
        for (String p : next) {
            if (!prev.contains(p)) {
                add.accept(p);
            }
        }
    }
}
