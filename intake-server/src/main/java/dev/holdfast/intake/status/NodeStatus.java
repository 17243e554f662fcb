package dev.holdfast.intake.status;

import java.util.List;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.http.Readiness;
import dev.holdfast.wal.DiskGuard;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Puts one {@link StatusReport} together from the parts that know each figure: the disk guard (WAL size, budget,
 * shedding), the meters (rates, lag, latency, dead letters, through {@link StatusHistory} and {@link StatusMeters}),
 * the forwarder's state, the open agent streams and readiness. It holds no state of its own and runs no thread.
 */
public final class NodeStatus {
    /** The page lists this many agents; a node with more says how many there are. */
    static final int MAX_AGENTS_LISTED = 200;

    private final String nodeId;
    private final Durability durability;
    private final long startedAt;
    private final DiskGuard guard;
    private final StatusMeters meters;
    private final StatusHistory history;
    private final ConnectedAgents agents;
    private final Supplier<ForwarderState> forwarder;
    private final Supplier<Readiness> readiness;
    private final Clock clock;

    /**
     * @param startedAt when the intake started, epoch milliseconds
     * @param forwarder the forwarder's state now ({@link ForwarderState#OFF} on a node without forwarding)
     */
    public NodeStatus(String nodeId, Durability durability, long startedAt, DiskGuard guard, StatusMeters meters,
                      StatusHistory history, ConnectedAgents agents, Supplier<ForwarderState> forwarder,
                      Supplier<Readiness> readiness, Clock clock) {
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.durability = Objects.requireNonNull(durability, "durability");
        this.startedAt = startedAt;
        this.guard = Objects.requireNonNull(guard, "guard");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.history = Objects.requireNonNull(history, "history");
        this.agents = Objects.requireNonNull(agents, "agents");
        this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** @param sinceMillis only history samples after this time (epoch ms; 0 for all the ring holds) */
    public StatusReport report(long sinceMillis) {
        Readiness r = readiness.get();
        Sample current = history.latest();
        return new StatusReport(
                new StatusReport.Node(nodeId, durability.configName(), meaning(durability), r.ready(), r.reasons(),
                        startedAt),
                clock.millis(), history.interval().toMillis(), current, wal(), forwarder(current),
                new StatusReport.Agents(agents.count(), agents.list(MAX_AGENTS_LISTED)), meters.rejections(),
                history.since(sinceMillis));
    }

    /** What an acknowledgement at this level survives, in the words of docs/DURABILITY.md. */
    public static String meaning(Durability d) {
        return switch (d) {
            case WRITTEN -> "acknowledged once written to the WAL's mapped file: survives a crash of the process,"
                    + " not of the machine";
            case FSYNC -> "acknowledged once the WAL is synced to disk: survives a crash or power loss of the machine";
            case REPLICATED -> "acknowledged once Kafka (acks=all) confirmed every event: survives losing this node's"
                    + " disk";
        };
    }

    private StatusReport.Wal wal() {
        DiskGuard.Limits limits = guard.limits();
        DiskGuard.Pressure pressure = guard.pressure();
        Map<String, String> priorities = new LinkedHashMap<>();
        for (BatchPriority p : List.of(BatchPriority.CRITICAL, BatchPriority.NORMAL, BatchPriority.BULK)) {
            priorities.put(p.name(), pressure.sheds(p) ? "shed" : "accepted"); // the rule DiskGuard.refusal applies
        }
        return new StatusReport.Wal(guard.walBytes(), guard.budgetBytes(), limits.maxBytes(), guard.freeBytes(),
                limits.bulkWatermark(), limits.normalWatermark(), pressure.name(), priorities);
    }

    private StatusReport.Forwarder forwarder(Sample current) {
        ForwarderState state = forwarder.get();
        Map<String, StatusReport.Lane> lanes = new LinkedHashMap<>();
        if (state.running()) {
            lanes.put("live", new StatusReport.Lane(meters.lagRecords("live"), meters.lagOldestAgeSeconds("live"),
                    current == null ? null : current.eventsOutLivePerSecond()));
            lanes.put("backlog", new StatusReport.Lane(meters.lagRecords("backlog"),
                    meters.lagOldestAgeSeconds("backlog"), current == null ? null : current.eventsOutBacklogPerSecond()));
        }
        Map<String, Long> dead = meters.deadLetters();
        return new StatusReport.Forwarder(state.state(), state.detail(), state.circuit(), lanes,
                dead.values().stream().mapToLong(Long::longValue).sum(), dead);
    }
}
