package dev.holdfast.shipper.config;

import dev.holdfast.client.Endpoints;
import static dev.holdfast.config.ConfigText.quote;

import dev.holdfast.config.ByteSizes;
import dev.holdfast.config.ConfigText;
import dev.holdfast.config.Durations;
import dev.holdfast.shipper.config.ShipperConfig.Batch;
import dev.holdfast.shipper.config.ShipperConfig.Intake;
import dev.holdfast.shipper.config.ShipperConfig.Metrics;
import dev.holdfast.shipper.config.ShipperConfig.Spool;
import dev.holdfast.shipper.config.ShipperConfig.Watch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Range and consistency rules. Each message names the field by its dotted YAML path and says what would be
 * accepted. No file-system or network access: a missing watch directory or an unresolvable intake name is
 * found out, and reported, when the shipper starts using them (names may resolve later).
 */
final class ShipperConfigValidator {

    // It travels in every batch and names spool files, so keep it to file-name-safe characters.
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._-]{1,253}");
    // The kernel's limits: LPM trie key, name hash key, TASK_COMM_LEN - 1.
    private static final int MAX_PREFIX_BYTES = 256;
    private static final int MAX_NAME_BYTES = 31;
    private static final int MAX_COMM_BYTES = 15;

    private ShipperConfigValidator() {}

    static List<String> problems(String agentId, Intake intake, Batch batch, Spool spool, Watch watch,
                                 PriorityRules priority, Metrics metrics) {
        List<String> p = new ArrayList<>();
        if (!AGENT_ID.matcher(agentId).matches()) {
            p.add("agentId: " + quote(agentId) + " must be 1..253 characters from A-Z a-z 0-9 . _ -");
        }
        intake(p, intake);
        batch(p, batch);
        spool(p, spool, batch);
        watch(p, watch);
        for (int i = 0; i < priority.rules().size(); i++) {
            prefix(p, "priority.rules[" + i + "].prefix", priority.rules().get(i).prefix(), "path prefix");
        }
        String hostProblem = ConfigText.listenHostProblem("metrics.host", metrics.host());
        if (hostProblem != null) {
            p.add(hostProblem);
        }
        if (metrics.port() < -1 || metrics.port() > 65535) {
            p.add("metrics.port: " + metrics.port() + " is outside 1..65535 (or 0 for any free port, -1 for none)");
        }
        return p;
    }

    private static void intake(List<String> p, Intake in) {
        if (in.endpoints().isEmpty()) {
            p.add("intake.endpoints: at least one " + Endpoints.Target.SYNTAX + " is required");
        }
        range(p, "intake.dnsRefresh", in.dnsRefresh(), Duration.ofSeconds(1), Duration.ofHours(1));
        ShipperConfig.Tls t = in.tls();
        if (t.cert() != null && t.key() == null) {
            p.add("intake.tls.key: missing; intake.tls.cert is set and needs its private key (--tls-key)");
        } else if (t.cert() == null && t.key() != null) {
            p.add("intake.tls.cert: missing; intake.tls.key is set and needs its certificate (--tls-cert)");
        }
        if (t.serverName() != null && !t.enabled()) {
            p.add("intake.tls.serverName: set, but TLS is off; give intake.tls.ca (--tls-ca) or a client certificate");
        }
        range(p, "intake.connectTimeout", in.connectTimeout(), Duration.ofMillis(100), Duration.ofMinutes(5));
        range(p, "intake.backoffBase", in.backoffBase(), Duration.ofMillis(1), Duration.ofMinutes(1));
        range(p, "intake.backoffCap", in.backoffCap(), Duration.ofMillis(1), Duration.ofHours(1));
        if (in.backoffCap().compareTo(in.backoffBase()) < 0) {
            p.add("intake.backoffCap: " + Durations.format(in.backoffCap()) + " must be >= intake.backoffBase ("
                    + Durations.format(in.backoffBase()) + ")");
        }
        range(p, "intake.window", in.window(), 1, 1024);
    }

    private static void batch(List<String> p, Batch b) {
        range(p, "batch.maxEvents", b.maxEvents(), 1, 100_000);
        if (b.maxBytes() < 1024 || b.maxBytes() >= ShipperConfig.INTAKE_MAX_BATCH_BYTES) {
            p.add("batch.maxBytes: " + ByteSizes.format(b.maxBytes()) + " must be at least 1KiB and below "
                    + ByteSizes.format(ShipperConfig.INTAKE_MAX_BATCH_BYTES) + " (the intake's default limits.maxBatchBytes)");
        }
        range(p, "batch.maxDelay", b.maxDelay(), Duration.ofMillis(1), Duration.ofMinutes(1));
    }

    private static void spool(List<String> p, Spool s, Batch b) {
        if (s.dir().toString().isBlank()) {
            p.add("spool.dir: must not be empty");
        }
        if (s.maxBytes() < 2 * b.maxBytes()) {
            // Room for at least the batch being written and one waiting for its acknowledgement.
            p.add("spool.maxBytes: " + ByteSizes.format(s.maxBytes()) + " must be at least twice batch.maxBytes ("
                    + ByteSizes.format(2 * b.maxBytes()) + ")");
        }
        if (s.minFreeDisk() < 0) {
            p.add("spool.minFreeDisk: " + s.minFreeDisk() + " must not be negative");
        }
    }

    private static void watch(List<String> p, Watch w) {
        for (int i = 0; i < w.include().size(); i++) {
            prefix(p, "watch.include[" + i + "]", w.include().get(i), "directory prefix");
        }
        for (int i = 0; i < w.exclude().size(); i++) {
            prefix(p, "watch.exclude[" + i + "]", w.exclude().get(i), "directory prefix");
        }
        names(p, "watch.includeNames", w.includeNames(), MAX_NAME_BYTES);
        names(p, "watch.excludeNames", w.excludeNames(), MAX_NAME_BYTES);
        names(p, "watch.excludeComms", w.excludeComms(), MAX_COMM_BYTES);
        for (String n : w.includeNames()) {
            if (w.excludeNames().contains(n)) {
                p.add("watch.includeNames: " + quote(n) + " is also in watch.excludeNames");
            }
        }
        if (w.modifyInterval().isNegative()) {
            p.add("watch.modifyInterval: " + w.modifyInterval() + " must not be negative (0 = one MODIFY per open file)");
        }
        long r = w.ringBufferBytes();
        if (r < 4096 || r > (1L << 30) || Long.bitCount(r) != 1) {
            p.add("watch.ringBufferBytes: " + ByteSizes.format(r) + " must be a power of two from 4KiB to 1GiB");
        }
    }

    private static void prefix(List<String> p, String field, String prefix, String what) {
        if (!prefix.startsWith("/")) {
            p.add(field + ": " + quote(prefix) + " is not an absolute " + what + "; start it with '/'");
        } else if (bytes(prefix) > MAX_PREFIX_BYTES || prefix.indexOf('\0') >= 0) {
            p.add(field + ": " + quote(prefix) + " is longer than " + MAX_PREFIX_BYTES + " bytes or contains NUL");
        }
    }

    private static void names(List<String> p, String field, List<String> names, int max) {
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (n.isEmpty() || n.indexOf('\0') >= 0 || n.indexOf('/') >= 0 || bytes(n) > max) {
                p.add(field + "[" + i + "]: " + quote(n) + " must be 1.." + max + " bytes without '/' or NUL");
            }
        }
    }

    private static void range(List<String> p, String field, long v, long min, long max) {
        if (v < min || v > max) {
            p.add(field + ": " + v + " is outside " + min + ".." + max);
        }
    }

    private static void range(List<String> p, String field, Duration v, Duration min, Duration max) {
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            p.add(field + ": " + Durations.format(v) + " is outside " + Durations.format(min) + ".."
                    + Durations.format(max));
        }
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
