package dev.holdfast.chaos.harness;

/** Reads numbers out of the Prometheus text format the Holdfast processes serve on /metrics. */
public final class Prometheus {
    private Prometheus() {
    }

    /** Sum over every label set of {@code name} (exact family name, e.g. holdfast_wal_appended_events_total). */
    public static double sum(String body, String name) {
        double total = 0;
        boolean seen = false;
        for (String line : body.split("\n")) {
            if (line.startsWith(name) && (line.length() > name.length())
                    && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '{')) {
                String value = line.substring(line.lastIndexOf(' ') + 1);
                total += Double.parseDouble(value);
                seen = true;
            }
        }
        return seen ? total : Double.NaN;
    }
}
