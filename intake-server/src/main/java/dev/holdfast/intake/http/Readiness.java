package dev.holdfast.intake.http;

import java.util.List;

/**
 * Whether the server should receive traffic now, and if not, why. Reasons are shown verbatim on
 * {@code /readyz}, so write them for an operator ("WAL above normal watermark (91%)").
 */
/**
 * @param details facts an operator should see even while ready (e.g. WAL damage repaired at the last start)
 */
public record Readiness(boolean ready, List<String> reasons, List<String> details) {

    /**
     * The ready state. A constant rather than a static {@code ready()} factory: that name is taken by
     * the record's accessor, and Java forbids a static and an instance method with one signature.
     */
    public static final Readiness READY = new Readiness(true, List.of(), List.of());

    public Readiness {
        reasons = List.copyOf(reasons);
        details = List.copyOf(details);
        if (!ready && reasons.isEmpty()) {
            // An unexplained 503 sends someone digging through logs; make the caller say why.
            throw new IllegalArgumentException("a not-ready Readiness needs at least one reason");
        }
    }

    public static Readiness notReady(String... reasons) {
        return new Readiness(false, List.of(reasons), List.of());
    }

    public Readiness withDetails(List<String> moreDetails) {
        return new Readiness(ready, reasons, moreDetails);
    }
}
