package dev.holdfast.intake.otlp;

import dev.holdfast.otlp.OtlpSignal;
import dev.holdfast.wal.BatchPriority;

import java.util.List;
import java.util.Objects;

/**
 * Which shedding priority an OTLP request gets. A request is one WAL record, so it has one priority: the highest any
 * of its items earns. Resource attribute rules come first (first match wins, e.g. {@code deployment.environment =
 * prod} to CRITICAL); then logs at or above {@code errorSeverity} get {@code errorLogs}; else the signal's default.
 *
 * @param errorSeverity OTLP severity_number from which a log record counts as an error (17 = ERROR)
 */
public record OtlpPriorities(BatchPriority logs, BatchPriority traces, BatchPriority metrics, BatchPriority errorLogs,
                             int errorSeverity, List<AttributeRule> rules) {
    /** Logs with severity ERROR and above CRITICAL, other logs and traces NORMAL, metrics BULK. */
    public static final OtlpPriorities DEFAULTS = new OtlpPriorities(BatchPriority.NORMAL, BatchPriority.NORMAL,
            BatchPriority.BULK, BatchPriority.CRITICAL, 17, List.of());

    /** A resource whose attribute {@code key} has the string value {@code value} gives its items {@code priority}. */
    public record AttributeRule(OtlpSignal signal, String key, String value, BatchPriority priority) {
        public AttributeRule {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(priority, "priority");
        }

        /** Whether it applies to this signal (a null signal: every signal). */
        boolean covers(OtlpSignal s) {
            return signal == null || signal == s;
        }
    }

    public OtlpPriorities {
        Objects.requireNonNull(logs, "logs");
        Objects.requireNonNull(traces, "traces");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(errorLogs, "errorLogs");
        rules = List.copyOf(rules);
    }

    BatchPriority base(OtlpSignal signal) {
        return switch (signal) {
            case LOGS -> logs;
            case TRACES -> traces;
            case METRICS -> metrics;
        };
    }

    /** The higher of two priorities (CRITICAL is highest: shed last). */
    static BatchPriority higher(BatchPriority a, BatchPriority b) {
        return a.code() <= b.code() ? a : b;
    }
}
