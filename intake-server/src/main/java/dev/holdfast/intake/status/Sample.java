package dev.holdfast.intake.status;

/**
 * One point of the status page's history: the rates over one sampling interval and the levels at its end. A figure
 * the node could not know (no forwarder running, no ack in the interval) is null, never 0.
 *
 * @param time                     end of the interval, epoch milliseconds
 * @param eventsInPerSecond        events written to the WAL (each acknowledged once durable at the node's level)
 * @param batchesAckedPerSecond    batches answered PERSISTED or DUPLICATE
 * @param eventsOutLivePerSecond   events Kafka confirmed from the live lane
 * @param eventsOutBacklogPerSecond events Kafka confirmed from the backlog lane
 * @param lagLiveRecords           WAL records the live lane has not had confirmed
 * @param lagBacklogRecords        WAL records the backlog lane has not had confirmed
 * @param ackP50Millis             median time from a batch's receipt to its ack, over the interval
 * @param ackP99Millis             99th percentile of the same
 * @param walBytes                 bytes the WAL's segments use
 */
public record Sample(long time, double eventsInPerSecond, double batchesAckedPerSecond, Double eventsOutLivePerSecond,
                     Double eventsOutBacklogPerSecond, Double lagLiveRecords, Double lagBacklogRecords,
                     Double ackP50Millis, Double ackP99Millis, long walBytes) {
}
