package dev.holdfast.intake.status;

import java.util.List;
import java.util.Map;

/**
 * The document {@code GET /api/status} answers with (as JSON, by Jackson): everything the status page and
 * {@code holdfast status} show. Times are epoch milliseconds; a figure the node does not know is null.
 *
 * @param time                 when this report was made
 * @param sampleIntervalMillis between two points of {@code history}
 * @param current              the newest sample (rates over the last interval); null in the first interval
 * @param rejections           batches refused since the start, by reason (above zero only)
 * @param history              the samples after the request's {@code since}, oldest first
 */
public record StatusReport(Node node, long time, long sampleIntervalMillis, Sample current, Wal wal,
                           Forwarder forwarder, Agents agents, Map<String, Long> rejections, List<Sample> history) {

    /**
     * @param durability        {@code written}, {@code fsync} or {@code replicated}: when this node acknowledges
     * @param durabilityMeaning what an acknowledgement at that level survives
     * @param notReadyReasons   why /readyz says 503; empty when ready
     */
    public record Node(String id, String durability, String durabilityMeaning, boolean ready,
                       List<String> notReadyReasons, long startedAt) {
    }

    /**
     * The WAL against its budget, and which priorities it still takes.
     *
     * @param budgetBytes what it may use now: {@code wal.maxBytes}, less what the disk's free space rules out
     * @param pressure    {@code OK}, {@code SHED_BULK}, {@code SHED_NORMAL} or {@code FULL}
     * @param priorities  CRITICAL, NORMAL, BULK → {@code accepted} or {@code shed}
     */
    public record Wal(long bytes, long budgetBytes, long maxBytes, long freeBytes, double bulkWatermark,
                      double normalWatermark, String pressure, Map<String, String> priorities) {
    }

    /**
     * @param lanes       {@code live} and {@code backlog}; empty while not running
     * @param deadLetters events Kafka refused for good since the start, by reason
     */
    public record Forwarder(String state, String detail, String circuit, Map<String, Lane> lanes,
                            long deadLettersTotal, Map<String, Long> deadLetters) {
    }

    /**
     * @param lagRecords       WAL records not yet confirmed by Kafka
     * @param oldestAgeSeconds age of the oldest of them
     * @param eventsPerSecond  events confirmed over the last interval
     */
    public record Lane(Double lagRecords, Double oldestAgeSeconds, Double eventsPerSecond) {
    }

    /**
     * @param connected streams open now
     * @param list      the longest-connected of them, at most {@link NodeStatus#MAX_AGENTS_LISTED}
     */
    public record Agents(int connected, List<ConnectedAgents.Agent> list) {
    }
}
