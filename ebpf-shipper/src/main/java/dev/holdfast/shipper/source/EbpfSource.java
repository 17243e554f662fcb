package dev.holdfast.shipper.source;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.shipper.ebpf.Counters;
import dev.holdfast.shipper.ebpf.EbpfProbe;
import dev.holdfast.shipper.ebpf.EbpfUnavailableException;
import dev.holdfast.shipper.ebpf.ProbeConfig;
import dev.holdfast.shipper.config.PriorityRules;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * File events from the eBPF probe: one {@link EbpfProbe#poll} per {@link #poll} call, each record encoded in place
 * as a protocol {@link Event} ({@link KernelEventEncoder}) with wall-clock time and the priority its path gets. Full
 * context (pid, comm, cgroup, inode, CLOSE_WRITE, rename pairs).
 */
public final class EbpfSource implements EventSource {
    /**
     * One drain copies at most this much: about 1,600 typical records per JNI call, a hundred calls a second at
     * 150,000 events/s. Both this buffer and its heap copy count in the shipper's RSS, and the backlog waits in the
     * kernel's ring, not here.
     */
    static final int DRAIN_BUFFER_BYTES = 256 << 10;

    private final EbpfProbe probe;
    private final ByteBuffer buffer;
    private final byte[] records;
    private final KernelEventEncoder encoder;

    EbpfSource(EbpfProbe probe, PriorityRules priorities) {
        this.probe = Objects.requireNonNull(probe, "probe");
        this.buffer = ByteBuffer.allocateDirect(Math.max(DRAIN_BUFFER_BYTES, EbpfProbe.MIN_BUFFER))
                .order(ByteOrder.LITTLE_ENDIAN);
        this.records = new byte[buffer.capacity()];
        this.encoder = new KernelEventEncoder(priorities, probe.bootToRealtimeOffsetNanos());
    }

    /**
     * Loads and attaches the probe; events are captured from here on.
     *
     * @param priorities decide each event's priority by its path
     * @throws EbpfUnavailableException with one line saying why eBPF cannot be used here
     */
    public static EbpfSource open(ProbeConfig config, PriorityRules priorities) throws EbpfUnavailableException {
        return new EbpfSource(EbpfProbe.open(config), priorities);
    }

    @Override
    public int poll(EventSink sink, int timeoutMillis) {
        if (probe.poll(buffer, timeoutMillis) == 0) {
            return 0;
        }
        // the drained batch is [u32 length][record]... from position 0 to the limit (EbpfProbe#drain); one copy to
        // the heap, where the encoder reads it field by field
        int size = buffer.remaining();
        buffer.get(buffer.position(), records, 0, size);
        return encoder.encodeAll(records, size, sink);
    }

    @Override
    public String name() {
        return "ebpf";
    }

    /** The counters as they were when the probe closed: a final status line or scrape still reads them. */
    private Map<String, Long> finalCounters;

    @Override
    public synchronized Map<String, Long> counters() {
        Map<String, Long> last = finalCounters;
        return last != null ? last : read(probe.counters());
    }

    private static Map<String, Long> read(Counters c) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("seen", c.seen());
        m.put("filtered_self", c.filteredSelf());
        m.put("filtered_comm", c.filteredComm());
        m.put("filtered_failed", c.filteredFailed());
        m.put("filtered_read_only", c.filteredReadOnly());
        m.put("filtered_not_regular", c.filteredNotRegular());
        m.put("filtered_prefix_excluded", c.filteredPrefixExcluded());
        m.put("filtered_not_included", c.filteredNotIncluded());
        m.put("filtered_name_excluded", c.filteredNameExcluded());
        m.put("filtered_name_not_included", c.filteredNameNotIncluded());
        m.put("emitted", c.emitted());
        m.put("dropped", c.dropped());
        m.put("stash_full", c.stashFull());
        m.put("writes_folded", c.writesFolded());
        return m;
    }

    @Override
    public synchronized void close() {
        if (finalCounters == null) {
            finalCounters = read(probe.counters());
            probe.close();
        }
    }
}
