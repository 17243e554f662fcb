package dev.holdfast.wal;

/**
 * Shedding order under pressure: BULK goes first, then NORMAL; CRITICAL is kept until the hard limit.
 * Codes match holdfast.v1.Priority so the WAL stays independent of the protocol module.
 */
public enum BatchPriority {
    CRITICAL(1), NORMAL(2), BULK(3);

    private final int code;

    BatchPriority(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static BatchPriority fromCode(int code) {
        return switch (code) {
            case 1 -> CRITICAL;
            case 2 -> NORMAL;
            case 3 -> BULK;
            default -> throw new IllegalArgumentException("unknown priority code " + code);
        };
    }
}
