package dev.holdfast.cli;

import dev.holdfast.config.ByteSizes;
import com.fasterxml.jackson.databind.JsonNode;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An intake's status document ({@code /api/status}) as a few aligned lines for a terminal. Reads the JSON tree, not
 * the intake's classes, so it prints what an older or newer intake sends and says "—" for a figure it lacks; figures
 * the node could not know (no forwarder running, no ack in the last interval) are "—" there too, never 0.
 */
final class StatusSummary {
    private static final String NONE = "—";
    private static final int MAX_AGENTS = 20;
    private final Clock clock;

    /** @param clock "3.2 s ago" is measured against it */
    StatusSummary(Clock clock) {
        this.clock = clock;
    }

    String format(JsonNode s, String address) {
        List<String> out = new ArrayList<>();
        JsonNode node = s.path("node");
        boolean ready = node.path("ready").asBoolean(false);
        out.add("Holdfast intake " + node.path("id").asText("?") + " at " + address + ": "
                + (ready ? "ready" : "NOT READY"));
        for (JsonNode reason : node.path("notReadyReasons")) {
            out.add("  not ready    " + reason.asText());
        }
        out.add("  durability   " + node.path("durability").asText(NONE)
                + (node.hasNonNull("durabilityMeaning") ? " (" + node.path("durabilityMeaning").asText() + ")" : ""));
        if (s.path("wal").isMissingNode() || s.path("wal").isNull()) {
            out.add("  starting: the WAL is still being recovered; no figures yet");
            return String.join("\n", out) + "\n";
        }

        JsonNode c = s.path("current");
        JsonNode f = s.path("forwarder");
        boolean forwarding = "running".equals(f.path("state").asText());
        out.add("");
        out.add("Throughput (last " + seconds(s.path("sampleIntervalMillis").asLong(1000)) + ")");
        out.add("  events in    " + rate(c.path("eventsInPerSecond")) + " written and acknowledged, "
                + rate(c.path("batchesAckedPerSecond")) + " batches acknowledged");
        if (forwarding) {
            out.add("  events out   " + rate(sum(c.path("eventsOutLivePerSecond"), c.path("eventsOutBacklogPerSecond")))
                    + " forwarded (live " + rate(c.path("eventsOutLivePerSecond")) + ", backlog "
                    + rate(c.path("eventsOutBacklogPerSecond")) + ")");
        } else {
            out.add("  events out   not forwarding");
        }
        out.add("  ack latency  p50 " + millis(c.path("ackP50Millis")) + ", p99 " + millis(c.path("ackP99Millis")));

        JsonNode w = s.path("wal");
        out.add("");
        out.add("WAL");
        long bytes = w.path("bytes").asLong();
        long budget = w.path("budgetBytes").asLong();
        out.add("  size         " + ByteSizes.approximate(bytes) + " of " + ByteSizes.approximate(budget)
                + " budget ("
                + (budget > 0 ? String.format(Locale.ROOT, "%.1f%%", 100.0 * bytes / budget) : "no room") + "), "
                + "pressure " + w.path("pressure").asText(NONE));
        List<String> priorities = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = w.path("priorities").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            priorities.add(e.getKey() + " " + e.getValue().asText());
        }
        out.add("  priorities   " + (priorities.isEmpty() ? NONE : String.join(", ", priorities)));

        out.add("");
        out.add("Forwarder      " + f.path("state").asText(NONE) + (f.hasNonNull("circuit")
                ? ", circuit " + f.path("circuit").asText() : ""));
        out.add("  " + f.path("detail").asText(""));
        for (Iterator<Map.Entry<String, JsonNode>> it = f.path("lanes").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode lane = e.getValue();
            out.add(String.format(Locale.ROOT, "  %-12s lag %s records, oldest %s, %s", e.getKey(),
                    count(lane.path("lagRecords")), lane.path("oldestAgeSeconds").isNumber()
                            ? String.format(Locale.ROOT, "%.1f s", lane.path("oldestAgeSeconds").asDouble()) : NONE,
                    rate(lane.path("eventsPerSecond"))));
        }
        StringBuilder dead = new StringBuilder("  dead letters " + count(f.path("deadLettersTotal")));
        List<String> reasons = new ArrayList<>();
        f.path("deadLetters").fields().forEachRemaining(e -> reasons.add(e.getKey() + " " + e.getValue().asText()));
        if (!reasons.isEmpty()) {
            dead.append(" (").append(String.join(", ", reasons)).append(")");
        }
        out.add(dead.toString());

        JsonNode agents = s.path("agents");
        int connected = agents.path("connected").asInt();
        out.add("");
        out.add("Agents         " + connected + " connected");
        long now = clock.millis();
        int shown = 0;
        for (JsonNode a : agents.path("list")) {
            if (shown++ == MAX_AGENTS) {
                break;
            }
            out.add(String.format(Locale.ROOT, "  %-24s last ack seq %s%s, connected %s, %s batches acked",
                    a.path("agentId").asText(), a.hasNonNull("lastAckSeq") ? a.path("lastAckSeq").asText() : NONE,
                    a.hasNonNull("lastAckAt") ? " (" + ago(now, a.path("lastAckAt").asLong()) + ")" : "",
                    ago(now, a.path("connectedAt").asLong()), count(a.path("acked"))));
        }
        if (connected > Math.min(shown, MAX_AGENTS)) {
            out.add("  … " + (connected - Math.min(shown, MAX_AGENTS)) + " more (the status page lists them)");
        }
        List<String> refused = new ArrayList<>();
        s.path("rejections").fields().forEachRemaining(e -> refused.add(e.getKey() + " " + e.getValue().asText()));
        out.add("Refused        " + (refused.isEmpty() ? "none" : String.join(", ", refused)));
        return String.join("\n", out) + "\n";
    }

    private static JsonNode sum(JsonNode a, JsonNode b) {
        if (!a.isNumber()) {
            return a;
        }
        return com.fasterxml.jackson.databind.node.DoubleNode.valueOf(a.asDouble() + (b.isNumber() ? b.asDouble() : 0));
    }

    private static String rate(JsonNode v) {
        return v.isNumber() ? String.format(Locale.ROOT, "%,.0f/s", v.asDouble()) : NONE;
    }

    private static String count(JsonNode v) {
        return v.isNumber() ? String.format(Locale.ROOT, "%,d", v.asLong()) : NONE;
    }

    private static String millis(JsonNode v) {
        if (!v.isNumber()) {
            return NONE;
        }
        double ms = v.asDouble();
        return String.format(Locale.ROOT, ms < 10 ? "%.2f ms" : "%.0f ms", ms);
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    private static String ago(long now, long then) {
        double s = Math.max(0, (now - then) / 1000.0);
        if (s < 60) return String.format(Locale.ROOT, "%.1f s ago", s);
        if (s < 3600) return String.format(Locale.ROOT, "%.1f min ago", s / 60);
        return String.format(Locale.ROOT, "%.1f h ago", s / 3600);
    }
}
