package dev.holdfast.intake.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * When the intake server acknowledges a batch.
 *
 * <p>Both modes ack only after the batch is in the write-ahead log; they differ in what survives.
 * {@link #WRITTEN} survives a crash of the process (the bytes are in the page cache), {@link #FSYNC}
 * also survives a crash or power loss of the machine.
 */
public enum Durability {
    /** Ack once the batch is written to the memory-mapped WAL; survives a process crash. */
    WRITTEN,
    /** Ack once the WAL has been forced to disk (group-committed); survives a machine crash. */
    FSYNC,
    /** Ack once Kafka (acks=all) has confirmed every event of the batch; survives losing the intake's disk. */
    REPLICATED;

    /** The spelling used in YAML and on the command line. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the lowercase config spelling; exact match only, so typos are reported, not guessed. */
    public static Optional<Durability> parse(String text) {
        return Arrays.stream(values()).filter(d -> d.configName().equals(text)).findFirst();
    }

    /** {@code written|fsync|replicated}, for error messages. */
    public static String allowed() {
        return Arrays.stream(values()).map(Durability::configName).collect(Collectors.joining("|"));
    }
}
