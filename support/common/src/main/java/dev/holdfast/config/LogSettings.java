package dev.holdfast.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a process logs: the {@code log} section of the intake's and the shipper's YAML, and the {@code --log-format}
 * and {@code --log-level} flags of every command. The flags win over the file, the file over the defaults.
 *
 * @param format one line of text per event, or one JSON object per line for a log pipeline
 * @param level  the least severe level written
 */
public record LogSettings(Format format, Level level) {

    public static final LogSettings DEFAULTS = new LogSettings(Format.TEXT, Level.INFO);

    public LogSettings {
        java.util.Objects.requireNonNull(format, "format");
        java.util.Objects.requireNonNull(level, "level");
    }

    public enum Format {
        TEXT, JSON;

        public static Format parse(String text) {
            return parseEnum(Format.class, text);
        }

        public static String allowed() {
            return spellings(Format.class);
        }
    }

    /** The levels every logging backend has; a level enables itself and every more severe one. */
    public enum Level {
        ERROR, WARN, INFO, DEBUG, TRACE;

        public static Level parse(String text) {
            return parseEnum(Level.class, text);
        }

        public static String allowed() {
            return spellings(Level.class);
        }
    }

    /** Reads the {@code log} section; absent keys keep {@code dflt}'s values, bad ones are added to its problems. */
    public static LogSettings read(YamlSection log, LogSettings dflt) {
        Format format = log.oneOf("format", dflt.format(), Format.allowed(), Format::parse);
        Level level = log.oneOf("level", dflt.level(), Level.allowed(), Level::parse);
        log.rejectUnknownKeys();
        return new LogSettings(format, level);
    }

    /** These settings with the given flag values (null: not given) in place of their own. */
    public LogSettings withFlags(Format formatFlag, Level levelFlag) {
        return new LogSettings(formatFlag != null ? formatFlag : format, levelFlag != null ? levelFlag : level);
    }

    /** Exact lowercase spelling only, so a typo is reported rather than guessed; null when it is none of them. */
    private static <E extends Enum<E>> E parseEnum(Class<E> type, String text) {
        return Arrays.stream(type.getEnumConstants())
                .filter(e -> e.name().toLowerCase(Locale.ROOT).equals(text)).findFirst().orElse(null);
    }

    private static <E extends Enum<E>> String spellings(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining("|"));
    }
}
