package dev.holdfast.intake.otlp;

/** How an OTLP export was answered; the gRPC service and the HTTP listener each turn it into their protocol's form. */
public sealed interface OtlpResult {
    /**
     * Persisted at the configured durability (or nothing to persist). {@code rejected} items were individually
     * unusable and left out (OTLP partial success), {@code message} says why; 0 and "" for a full success.
     */
    record Accepted(long rejected, String message) implements OtlpResult {
        public static final Accepted ALL = new Accepted(0, "");
    }

    /** Not persisted, and never will be as sent: INVALID_ARGUMENT / HTTP 400. */
    record Invalid(String message) implements OtlpResult {
    }

    /**
     * Not persisted now; the sender should retry after {@code retryAfterMs}. {@code overloaded}: shed for load or disk
     * pressure (RESOURCE_EXHAUSTED / 429); otherwise the intake cannot write (UNAVAILABLE / 503).
     */
    record RetryLater(long retryAfterMs, String message, boolean overloaded) implements OtlpResult {
    }
}
