package dev.holdfast.forwarder;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How {@link EventRecords} writes an event into a Kafka record's value, chosen per topic.
 */
public enum ValueEncoding {
    /**
     * The {@code holdfast.v1.Event} protobuf bytes exactly as the agent sent them, sliced out of the stored batch
     * without being parsed (the default, and the cheapest).
     */
    PROTOBUF,
    /**
     * The protobuf JSON mapping of {@code holdfast.v1.Event} ({@code JsonFormat}, lowerCamelCase field names, fields
     * at their default value omitted, 64-bit integers as strings, enums by name, bytes as base64), on one line, UTF-8:
     * readable with kcat and by Kafka Connect's JsonConverter with {@code schemas.enable=false}. Each event is parsed
     * and printed, which costs CPU the protobuf encoding does not.
     */
    JSON;

    /** The spelling used in configuration files and on the command line: {@code protobuf}, {@code json}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The encoding with this config spelling; exact (lowercase) match only, so typos are reported, not guessed. */
    public static Optional<ValueEncoding> find(String text) {
        return Arrays.stream(values()).filter(e -> e.configName().equals(text)).findFirst();
    }

    /**
     * The encoding with this config spelling.
     *
     * @throws IllegalArgumentException naming the value and the allowed ones, e.g.
     *                                  {@code unknown value encoding "avro": expected protobuf|json}
     */
    public static ValueEncoding parse(String text) {
        return find(text).orElseThrow(() -> new IllegalArgumentException(
                "unknown value encoding " + (text == null ? "null" : "\"" + text + "\"") + ": expected " + allowed()));
    }

    /** {@code protobuf|json}, for error messages. */
    public static String allowed() {
        return Arrays.stream(values()).map(ValueEncoding::configName).collect(Collectors.joining("|"));
    }
}
