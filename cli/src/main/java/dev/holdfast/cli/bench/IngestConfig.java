package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.client.Endpoints;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Everything {@code holdfast bench ingest} was asked to do, validated.
 *
 * @param targets         intake endpoints; every agent fails over between them
 * @param durationSeconds measured production time after warmup; 0 when {@code batchesPerAgent} is used
 * @param batchesPerAgent batches each agent must get acknowledged; 0 when running by duration
 * @param ackedLog        may be null
 * @param reportJson      may be null
 * @param stagger         with a rate: agent i's schedule starts i/agents of an interval after agent 0's, as independent
 *                        agents would send; otherwise all agents send together
 */
record IngestConfig(List<Endpoints.Target> targets, int agents, int batchSize, int eventBytes, long durationSeconds,
                    long batchesPerAgent, Path ackedLog, int window, Priority priority, String agentPrefix,
                    Path reportJson, long warmupSeconds, long drainSeconds, int poolSize, double ratePerAgent,
                    long dnsRefreshSeconds, boolean stagger) {

    static final long DEFAULT_DRAIN_SECONDS = 30;
    static final int DEFAULT_POOL_SIZE = 4096;
    static final long DEFAULT_DNS_REFRESH_SECONDS = 30;

    IngestConfig {
        targets = List.copyOf(targets);
        require(!targets.isEmpty(), "--target needs at least one HOST:PORT");
        require(agents >= 1, "--agents must be >= 1");
        require(batchSize >= 1, "--batch must be >= 1");
        require(window >= 1, "--window must be >= 1");
        require(warmupSeconds >= 0, "--warmup must be >= 0");
        require((durationSeconds > 0) != (batchesPerAgent > 0), "exactly one of --duration or --batches must be > 0");
        int min = EventPool.minimumEventBytes();
        require(eventBytes >= min, "--event-bytes must be >= " + min + " (the smallest realistic FileEvent)");
        require(!agentPrefix.isEmpty(), "--agent-prefix must not be empty");
        require(ratePerAgent >= 0, "--rate must be >= 0");
        require(dnsRefreshSeconds >= 1, "--dns-refresh must be >= 1");
    }

    /** How long after the run's start agent {@code i}'s first batch is due: 0 unless staggered. */
    long firstBatchOffsetNanos(int agent) {
        return stagger ? batchIntervalNanos() * agent / agents : 0;
    }

    /** Nanoseconds between new batches of one agent; 0 when only the window limits it. */
    long batchIntervalNanos() {
        return ratePerAgent > 0 ? (long) (1e9 / ratePerAgent) : 0;
    }

    boolean byDuration() {
        return durationSeconds > 0;
    }

    String agentId(int index) {
        return agentPrefix + "-" + index;
    }

    String target() {
        return targets.stream().map(Endpoints.Target::toString).collect(Collectors.joining(","));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
