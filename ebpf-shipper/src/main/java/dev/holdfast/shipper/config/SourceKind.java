package dev.holdfast.shipper.config;

import java.util.Locale;

/** Where file events come from. */
public enum SourceKind {
    /** The eBPF probe; the shipper fails to start when it cannot load. */
    EBPF,
    /** The inotify fallback (no pids, no CLOSE_WRITE), for machines where eBPF cannot load. */
    FALLBACK,
    /** eBPF, falling back to inotify with the one-line reason when eBPF is unavailable. */
    AUTO;

    static final String ALLOWED = "ebpf, fallback, auto";

    /** Null for anything else, so callers can report the allowed values. */
    public static SourceKind parse(String s) {
        for (SourceKind k : values()) {
            if (k.name().toLowerCase(Locale.ROOT).equals(s)) {
                return k;
            }
        }
        return null;
    }
}
