package dev.holdfast.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Result of one {@code bench ingest} run. Throughput and latency cover the measured window only
 * (after warmup; until production stopped); the correctness counters cover the whole run.
 */
record BenchReport(
        String target, int agents, int window, int batchSize, double avgEventBytes, String priority,
        String mode, double warmupSeconds, boolean warmupExcluded,
        double measuredSeconds, long measuredBatchesAcked, long measuredEventsAcked,
        double eventsPerSecond, double payloadMegabytesPerSecond,
        double latencyP50Ms, double latencyP99Ms, double latencyP999Ms, double latencyMaxMs, long latencySamples,
        List<LatencyPoint> latencyDistribution,
        double totalSeconds, long totalBatchesAcked, long totalEventsAcked, long batchesSent,
        long resumedFromWelcome, long retries, long duplicates, long invalid, long reconnects,
        long streamFailures, long unexpectedAcks, long unacknowledged, long dnsLookups, long dnsLookupFailures,
        List<String> invalidMessages,
        int exitCode) {

    /**
     * One step of the ack-latency distribution: {@code percentile} % of the measured batches were acknowledged within
     * {@code ms}. The steps halve the distance to 100 % five at a time, as HdrHistogram's percentile output does, so
     * the tail is drawn as finely as the body (bench/latency-plot.py draws them).
     */
    record LatencyPoint(double percentile, double ms) {
    }

    String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "holdfast bench ingest -> %s: %d agents x window %d, batch %d x %.0f B events, %s%n",
                target, agents, window, batchSize, avgEventBytes, priority));
        b.append(String.format(Locale.ROOT, "  measured       %.2f s %s%n", measuredSeconds,
                warmupExcluded ? String.format(Locale.ROOT, "(after %.0f s warmup)", warmupSeconds)
                        : "(no warmup excluded)"));
        b.append(String.format(Locale.ROOT, "  acked          %,d batches, %,d events%n",
                measuredBatchesAcked, measuredEventsAcked));
        b.append(String.format(Locale.ROOT, "  throughput     %,.0f events/s, %.1f MB/s payload%n",
                eventsPerSecond, payloadMegabytesPerSecond));
        b.append(String.format(Locale.ROOT, "  ack latency    p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms (%,d batches)%n",
                latencyP50Ms, latencyP99Ms, latencyP999Ms, latencyMaxMs, latencySamples));
        b.append(String.format(Locale.ROOT, "  whole run      %.2f s, %,d batches / %,d events acked, %,d sends%n",
                totalSeconds, totalBatchesAcked, totalEventsAcked, batchesSent));
        b.append(String.format(Locale.ROOT, "  retries %d  duplicates %d  invalid %d  reconnects %d  stream failures %d  resumed-by-welcome %d  unexpected acks %d%n",
                retries, duplicates, invalid, reconnects, streamFailures, resumedFromWelcome, unexpectedAcks));
        if (dnsLookups > 0) {
            b.append(String.format(Locale.ROOT, "  dns lookups %d (%d failed; last known good addresses kept)%n",
                    dnsLookups, dnsLookupFailures));
        }
        for (String message : invalidMessages) {
            b.append("  INVALID ").append(message).append('\n');
        }
        b.append(String.format(Locale.ROOT, "  unacknowledged %d -> %s%n", unacknowledged,
                exitCode == 0 ? "OK" : "FAILED (exit " + exitCode + ")"));
        return b.toString();
    }

    void writeJson(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
