package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.Priority;

import java.nio.file.Path;

/**
 * Everything {@code holdfast bench ingest} was asked to do, validated.
 *
 * @param durationSeconds measured production time after warmup; 0 when {@code batchesPerAgent} is used
 * @param batchesPerAgent batches each agent must get acknowledged; 0 when running by duration
 * @param ackedLog        may be null
 * @param reportJson      may be null
 */
record IngestConfig(String host, int port, int agents, int batchSize, int eventBytes, long durationSeconds,
                    long batchesPerAgent, Path ackedLog, int window, Priority priority, String agentPrefix,
                    Path reportJson, long warmupSeconds, long drainSeconds, int poolSize, double ratePerAgent) {

    static final long DEFAULT_DRAIN_SECONDS = 30;
    static final int DEFAULT_POOL_SIZE = 4096;

    IngestConfig {
        require(port > 0 && port < 65536, "port must be 1..65535");
        require(agents >= 1, "--agents must be >= 1");
        require(batchSize >= 1, "--batch must be >= 1");
        require(window >= 1, "--window must be >= 1");
        require(warmupSeconds >= 0, "--warmup must be >= 0");
        require((durationSeconds > 0) != (batchesPerAgent > 0), "exactly one of --duration or --batches must be > 0");
        int min = EventPool.minimumEventBytes();
        require(eventBytes >= min, "--event-bytes must be >= " + min + " (the smallest realistic FileEvent)");
        require(!agentPrefix.isEmpty(), "--agent-prefix must not be empty");
        require(ratePerAgent >= 0, "--rate must be >= 0");
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
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Parses HOST:PORT, including bracketed IPv6 literals such as [::1]:7070. */
    static HostPort parseTarget(String target) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1) {
            throw new IllegalArgumentException("--target must be HOST:PORT, got '" + target + "'");
        }
        String host = target.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--target port is not a number: '" + target + "'");
        }
        return new HostPort(host, port);
    }

    record HostPort(String host, int port) {
    }
}
