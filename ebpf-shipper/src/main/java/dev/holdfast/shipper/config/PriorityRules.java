package dev.holdfast.shipper.config;

import dev.holdfast.protocol.v1.Priority;
import java.util.List;

/**
 * Which {@link Priority} an event gets, by path: the rule with the longest matching prefix wins, else
 * {@code defaultPriority}. Prefixes are byte-wise, like the watch prefixes ("/etc/" does not match "/etcd").
 */
public record PriorityRules(Priority defaultPriority, List<Rule> rules) {

    static final String ALLOWED = "critical, normal, bulk";

    public record Rule(String prefix, Priority priority) {}

    public PriorityRules {
        rules = List.copyOf(rules);
    }

    public static PriorityRules defaults() {
        return new PriorityRules(Priority.NORMAL, List.of());
    }

    public Priority priorityOf(String path) {
        Rule best = null;
        for (Rule r : rules) {
            if (path.startsWith(r.prefix()) && (best == null || r.prefix().length() > best.prefix().length())) {
                best = r;
            }
        }
        return best == null ? defaultPriority : best.priority();
    }

    /** Null for anything but critical, normal, bulk. */
    static Priority parse(String s) {
        return switch (s) {
            case "critical" -> Priority.CRITICAL;
            case "normal" -> Priority.NORMAL;
            case "bulk" -> Priority.BULK;
            default -> null;
        };
    }
}
