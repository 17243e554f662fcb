package dev.holdfast.shipper.source;

import java.util.Map;

/**
 * Where the shipper's file events come from: the eBPF probe, or the degraded inotify fallback.
 *
 * <p>Lifecycle: created started (events are being captured), {@link #poll} from one thread, {@link #close()}.
 */
public interface EventSource extends AutoCloseable {

    /**
     * Hands every event that is ready to {@code sink}, waiting up to {@code timeoutMillis} when none is.
     *
     * @return the number of events handed over
     */
    int poll(EventSink sink, int timeoutMillis);

    /** "ebpf" or "fallback": also the {@code FileEvent.source} of its events. */
    String name();

    /**
     * Monotonic counters for metrics, by name (e.g. "seen", "emitted", "dropped" for the kernel ring buffer,
     * "overflow" for inotify queue overflows). Safe to call from any thread.
     */
    Map<String, Long> counters();

    @Override
    void close();
}
