package dev.holdfast.wal;

/**
 * What a WAL record's payload is. Stored in the record header (the byte after the priority), so one WAL holds
 * holdfast.v1 batches and OTLP export requests side by side, in arrival order, under one group commit.
 */
public enum RecordKind {
    /** A holdfast.v1 EventBatch: sequenced per agent, so a resend is answered DUPLICATE. */
    EVENTS(0),
    /** An OTLP ExportLogsServiceRequest, as received. OTLP has no batch sequence: nothing to de-duplicate by. */
    OTLP_LOGS(1),
    /** An OTLP ExportTraceServiceRequest, as received. */
    OTLP_TRACES(2),
    /** An OTLP ExportMetricsServiceRequest, as received. */
    OTLP_METRICS(3);

    static final int MAX_CODE = 3;

    private final int code;

    RecordKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Whether records of this kind carry an agent's batch seq that the WAL remembers (only holdfast.v1 batches). */
    public boolean sequenced() {
        return this == EVENTS;
    }

    public static RecordKind fromCode(int code) {
        for (RecordKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown record kind " + code);
    }
}
