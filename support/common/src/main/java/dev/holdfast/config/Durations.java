package dev.holdfast.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as written in config files: {@code "5ms"}, {@code "2s"}, {@code "500us"}; bare integers are milliseconds. */
public final class Durations {

    private static final Map<String, ChronoUnit> UNITS = Map.of(
            "ns", ChronoUnit.NANOS,
            "us", ChronoUnit.MICROS,
            "µs", ChronoUnit.MICROS,
            "ms", ChronoUnit.MILLIS,
            "s", ChronoUnit.SECONDS,
            "m", ChronoUnit.MINUTES,
            "h", ChronoUnit.HOURS);

    public static final String SYNTAX = "milliseconds or a number with unit ns|us|ms|s|m|h, e.g. \"2ms\" or \"1s\"";

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ns|us|µs|ms|s|m|h)");

    private Durations() {}

    public static Optional<Duration> parse(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Duration.of(Long.parseLong(m.group(1)), UNITS.get(m.group(2))));
        } catch (ArithmeticException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The coarsest unit that represents the duration exactly: 2ms, 1s, 500us. */
    public static String format(Duration d) {
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException e) {
            return d.toString();
        }
        if (nanos == 0) {
            return "0ms";
        }
        String[] units = {"h", "m", "s", "ms", "us"};
        long[] scale = {3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L};
        for (int i = 0; i < units.length; i++) {
            if (nanos % scale[i] == 0) {
                return (nanos / scale[i]) + units[i];
            }
        }
        return nanos + "ns";
    }
}
