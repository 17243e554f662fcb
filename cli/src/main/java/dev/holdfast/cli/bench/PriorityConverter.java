package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.Priority;
import picocli.CommandLine;

import java.util.Locale;

/** Accepts the user-facing names critical|normal|bulk (any case) for the wire enum. */
final class PriorityConverter implements CommandLine.ITypeConverter<Priority> {

    @Override
    public Priority convert(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "critical" -> Priority.CRITICAL;
            case "normal" -> Priority.NORMAL;
            case "bulk" -> Priority.BULK;
            default -> throw new CommandLine.TypeConversionException(
                    "expected critical, normal or bulk but was '" + value + "'");
        };
    }
}
