package dev.holdfast.forwarder.deadletter;

import java.util.List;

/**
 * One event Kafka refused for good, with everything needed to send it again: the record as the forwarder built it
 * (key, value, headers) and why and where it went.
 *
 * @param atMillis     when it was dead-lettered
 * @param walIndex     the WAL record (batch) it came from
 * @param eventId      its {@code holdfast.event_id}
 * @param topic        the topic it was meant for
 * @param reason       the permanent reason ({@code record_too_large}, ...)
 * @param error        the error's class and message, as Kafka gave it
 * @param destination  {@code topic <name> partition P offset O}, or {@code file} when the dead-letter topic refused
 *                     it too (then {@code error} also says why)
 */
public record DeadLetter(long atMillis, long walIndex, String eventId, String topic, String reason, String error,
                         String destination, byte[] key, byte[] value, List<Header> headers) {
    public record Header(String key, byte[] value) {
    }

    public DeadLetter {
        headers = List.copyOf(headers);
    }

    public boolean onlyInFile() {
        return destination.equals(FILE);
    }

    public static final String FILE = "file";
}
