package dev.holdfast.intake.status;

import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

import java.util.concurrent.TimeUnit;

/**
 * Percentiles of the acknowledgement latency over one sampling interval, from the intake's existing timer
 * ({@code holdfast_intake_ack_latency}): the difference of two snapshots of its histogram buckets. The timer's own
 * histogram counts since the start, so its shape after an hour says nothing about the last second; the difference
 * does. Buckets are cumulative ("at or below this bound"), as Prometheus' are, and a percentile is interpolated
 * linearly inside its bucket, so it is as exact as the bucket bounds (about a third of a power of two apart), which is
 * what a Prometheus {@code histogram_quantile} over the same series would say.
 */
final class AckLatencyWindow {
    private AckLatencyWindow() {
    }

    /**
     * The {@code quantile} (0..1) of the values recorded between {@code before} and {@code after}, in milliseconds;
     * null when none was recorded. A value above the highest bucket is reported as that bucket's bound.
     *
     * @param before null for "since the start"
     */
    static Double quantileMillis(HistogramSnapshot before, HistogramSnapshot after, double quantile) {
        CountAtBucket[] now = after.histogramCounts();
        CountAtBucket[] then = before == null ? null : before.histogramCounts();
        if (then != null && then.length != now.length) {
            then = null; // the buckets changed (a new timer): the window starts from zero
        }
        double total = after.count() - (then == null ? 0 : before.count());
        if (total <= 0 || now.length == 0) {
            return null;
        }
        double rank = quantile * total;
        double lowerBound = 0;
        double countBelow = 0;
        for (int i = 0; i < now.length; i++) {
            double bound = now[i].bucket(TimeUnit.NANOSECONDS);
            double cumulative = now[i].count() - (then == null ? 0 : then[i].count());
            if (cumulative >= rank) {
                double inBucket = cumulative - countBelow;
                double fraction = inBucket <= 0 ? 1 : (rank - countBelow) / inBucket;
                return (lowerBound + fraction * (bound - lowerBound)) / 1e6;
            }
            lowerBound = bound;
            countBelow = cumulative;
        }
        return now[now.length - 1].bucket(TimeUnit.NANOSECONDS) / 1e6;
    }
}
