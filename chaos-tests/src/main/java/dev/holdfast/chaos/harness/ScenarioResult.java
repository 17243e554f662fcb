package dev.holdfast.chaos.harness;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one scenario run counted. Every figure comes from the agents' ack logs and reports, the Kafka topic read
 * back, or the processes' own metrics; {@link #failures} lists every broken guarantee (acknowledged-but-missing
 * events always are one).
 */
public final class ScenarioResult {
    public final String scenario;
    public final long seed;
    public double seconds;
    public long sentBatches;
    public long ackedBatches;
    public long ackedEvents;
    public long deliveredEvents;
    public long lostEvents;
    public long duplicateEvents;
    public long outOfOrder;
    public long maxAckGapMillis;
    public long recoveryMillis = -1;
    public long persisted;
    public long retryLater;
    public long noAnswer;
    public List<Long> ackedPerSecond = List.of();
    public final Map<String, Object> facts = new LinkedHashMap<>();
    public final List<String> lostSample = new ArrayList<>();
    public final List<String> failures = new ArrayList<>();
    /** Why the scenario could not run on this machine (null when it ran). */
    public String skipped;

    public ScenarioResult(String scenario, long seed) {
        this.scenario = scenario;
        this.seed = seed;
    }

    public void fact(String key, Object value) {
        facts.put(key, value);
    }

    /** Records a broken guarantee unless {@code ok}. */
    public void check(boolean ok, String failure) {
        if (!ok) {
            failures.add(failure);
        }
    }

    public boolean passed() {
        return failures.isEmpty() && lostEvents == 0;
    }

    /** Share of sends answered PERSISTED (or DUPLICATE: persisted earlier), RETRY_LATER, or not at all. */
    public String availability() {
        if (persisted + retryLater + noAnswer == 0) {
            return "-"; // no load agents (the shipper scenario counts file events instead)
        }
        long total = persisted + retryLater + noAnswer;
        return String.format(Locale.ROOT, "%.1f%% / %.1f%% / %.1f%%", 100.0 * persisted / total,
                100.0 * retryLater / total, 100.0 * noAnswer / total);
    }

    public String markdownRow() {
        return String.format(Locale.ROOT, "| %s | %s | %d | %s | %,d | %,d | %,d | %,d | %d | %,d | %s | %s | %s |",
                scenario, skipped != null ? "skipped (" + skipped + ")" : passed() ? "pass" : "**FAIL**", seed,
                sentBatches == 0 ? "-" : String.format(Locale.ROOT, "%,d", sentBatches), ackedEvents, deliveredEvents, lostEvents,
                duplicateEvents, outOfOrder, maxAckGapMillis, recoveryMillis < 0 ? "-" : recoveryMillis + " ms",
                availability(), factsText());
    }

    public static String markdownHeader() {
        return "| scenario | result | seed | sent batches | acked events | delivered | lost | duplicates | out of order "
                + "| max ack gap ms | recovery | answered persisted / retry-later / none | measured |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|";
    }

    public String factsText() {
        StringBuilder b = new StringBuilder();
        facts.forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(' ').append(v));
        if (!failures.isEmpty()) {
            b.append(b.length() == 0 ? "" : "; ").append("FAILED: ").append(String.join("; ", failures));
        }
        return b.toString();
    }
}
