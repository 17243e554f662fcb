package dev.holdfast.shipper.source;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.Priority;

/**
 * Where a source hands its events: as {@link Event} objects (the inotify fallback), or already in the wire format
 * with their priority decided (the eBPF source, which encodes records in place, so that no object is made per event).
 */
public interface EventSink {

    /** One event as an object; its priority is for the receiver's rules to decide. */
    void event(Event event);

    /**
     * One Event message, encoded, in {@code bytes[0, length)}; its priority field says {@code priority}. The bytes
     * are the caller's and change after this returns.
     */
    void encoded(Priority priority, byte[] bytes, int length);
}
