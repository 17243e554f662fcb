package dev.holdfast.intake.config;

import static dev.holdfast.config.ConfigText.quote;

import dev.holdfast.config.ByteSizes;
import dev.holdfast.config.ConfigText;
import dev.holdfast.config.Durations;
import dev.holdfast.forwarder.ForwardLimit;
import dev.holdfast.forwarder.ValueEncoding;
import dev.holdfast.forwarder.kafka.KafkaSecurity;
import dev.holdfast.intake.config.IntakeConfig.Endpoint;
import dev.holdfast.intake.config.IntakeConfig.Limits;
import dev.holdfast.intake.config.IntakeConfig.Wal;
import dev.holdfast.intake.config.IntakeConfig.Forwarding;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Range and consistency rules. Each message names the field by its dotted YAML path and says what
 * would be accepted, because the reader is an operator looking at a file, not at this code.
 *
 * <p>Deliberately no file-system or network access here: whether {@code dataDir} is writable or a port
 * is free is found out, and reported, when the server starts using them.
 */
final class IntakeConfigValidator {

    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,253}");
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    /** A WAL record's header: fixed fields and the agent id (limits.maxAgentIdBytes is at most 4 KiB). */
    private static final long RECORD_HEADER_ALLOWANCE = 8192;

    private IntakeConfigValidator() {}

    static List<String> problems(String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http,
                                 Limits limits, Wal wal, Forwarding forwarder, IntakeConfig.Tls tls) {
        List<String> p = new ArrayList<>();
        if (!NODE_ID.matcher(nodeId).matches()) {
            // It names WAL files and shows up in acks and metrics, so keep it to file-name-safe characters.
            p.add("nodeId: " + quote(nodeId) + " must be 1..253 characters from A-Z a-z 0-9 . _ -");
        }
        if (dataDir.toString().isBlank()) {
            p.add("dataDir: must not be empty");
        }
        endpoint(p, "grpc", grpc);
        endpoint(p, "http", http);
        if (grpc.port() != 0 && grpc.port() == http.port() && overlap(grpc.host(), http.host())) {
            p.add("http.port: " + http.port() + " is also grpc.port; the two listeners need different ports");
        }
        limits(p, limits);
        wal(p, wal);
        long maxRecord = dev.holdfast.wal.WalConfig.maxRecordBytes(wal.blockSize()) - RECORD_HEADER_ALLOWANCE;
        if (wal.blockSize() >= MIB && limits.maxBatchBytes() <= GIB && limits.maxBatchBytes() > maxRecord) {
            // Chronicle writes a document within a quarter of a block; a larger batch would stop the WAL writer
            p.add("limits.maxBatchBytes: " + ByteSizes.format(limits.maxBatchBytes()) + " does not fit one WAL record"
                    + " with wal.blockSize " + ByteSizes.format(wal.blockSize()) + " (at most " + maxRecord
                    + " bytes, a quarter of a block less headers); lower it or raise wal.blockSize to "
                    + ByteSizes.format(4 * (limits.maxBatchBytes() + RECORD_HEADER_ALLOWANCE + 1024)) + " or more");
        }
        forwarder(p, forwarder);
        if (forwarder.active()) {
            forwardable(p, nodeId, limits, forwarder);
        }
        if (durability == Durability.REPLICATED && !forwarder.active()) {
            p.add("durability: replicated needs the forwarder (forwarder.enabled: true and forwarder.kafka not none)");
        }
        tls(p, tls, grpc, http);
        return p;
    }

    /** An identity or agent-id glob: printable, no spaces (they are compared with what certificates and agents say). */
    private static final Pattern AUTH_NAME = Pattern.compile("[\\x21-\\x7e]{1,4096}");

    /** {@code otlp}: its HTTP port apart from the other listeners, its topics valid and apart from the events'. */
    static List<String> otlpProblems(IntakeConfig.Otlp o, IntakeConfig.Endpoint grpc, IntakeConfig.Endpoint http,
                                     IntakeConfig.Forwarding f) {
        List<String> p = new ArrayList<>();
        intRange(p, "otlp.http.port", o.httpPort(), 0, 65_535);
        if (o.httpPort() != 0 && (o.httpPort() == grpc.port() || o.httpPort() == http.port())) {
            p.add("otlp.http.port: " + o.httpPort() + " is also the " + (o.httpPort() == grpc.port() ? "gRPC" : "HTTP")
                    + " port; OTLP/HTTP needs a port of its own (0 = off)");
        }
        java.util.Set<String> seen = new java.util.HashSet<>(List.of(f.topic(), f.deadLetterTopicName()));
        String[][] topics = {{"logs", o.topics().logs()}, {"spans", o.topics().spans()},
                {"metrics", o.topics().metrics()}};
        for (String[] t : topics) {
            if (!TOPIC.matcher(t[1]).matches()) {
                p.add("otlp.topics." + t[0] + ": " + quote(t[1]) + " must be 1..249 characters from A-Z a-z 0-9 . _ -");
            } else if (!seen.add(t[1])) {
                p.add("otlp.topics." + t[0] + ": " + quote(t[1]) + " is already the topic of other records; each"
                        + " signal needs a topic of its own, apart from forwarder.topic and its dead letters");
            }
        }
        if (!o.encoding().equals("otlp_proto") && !o.encoding().equals("otlp_json")) {
            p.add(ConfigText.notOneOf("otlp.encoding", o.encoding(), "otlp_proto|otlp_json"));
        }
        intRange(p, "otlp.priority.errorSeverity", o.priority().errorSeverity(), 1, 24);
        return p;
    }

    static List<String> authProblems(IntakeConfig.Auth auth, IntakeConfig.Tls tls) {
        List<String> p = new ArrayList<>();
        IntakeConfig.Auth.Require r = auth.require();
        if (r == IntakeConfig.Auth.Require.CERTIFICATE && tls.clientCa() == null) {
            // without mutual TLS no caller could ever present a certificate: every call would be refused
            p.add("auth.require: certificate needs mutual TLS: set tls.cert, tls.key and tls.clientCa"
                    + " (--tls-cert, --tls-key, --tls-client-ca)");
        }
        if ((r == IntakeConfig.Auth.Require.TOKEN || r == IntakeConfig.Auth.Require.ANY) && auth.tokens() == null) {
            p.add("auth.tokens: must be set when auth.require is " + r.name().toLowerCase()
                    + " (a file of token hashes; see docs/SECURITY.md)");
        }
        if (auth.tokens() != null && auth.tokens().toString().isBlank()) {
            p.add("auth.tokens: must not be blank (leave it out for no tokens)");
        }
        if (!auth.httpToken().isEmpty() && !auth.httpToken().matches("sha256:[0-9a-fA-F]{64}")) {
            // never quoted: it could be the token itself, pasted by mistake
            p.add("auth.httpToken: must be sha256:<64 hex digits>, the hash of the token (holdfast token hash);"
                    + " a plaintext token is not accepted");
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < auth.agents().size(); i++) {
            IntakeConfig.AgentRule rule = auth.agents().get(i);
            String at = "auth.agents[" + i + "]";
            if (!AUTH_NAME.matcher(rule.identity()).matches()) {
                p.add(at + ".identity: " + quote(rule.identity()) + " must be a certificate CN or SAN or a token's"
                        + " identity: 1..4096 printable characters without spaces");
            } else if (!seen.add(rule.identity())) {
                p.add(at + ".identity: " + quote(rule.identity()) + " has a rule already; merge their agentIds");
            }
            if (rule.agentIds().isEmpty()) {
                p.add(at + ".agentIds: must list at least one agent id or glob (e.g. \"edge-*\")");
            }
            for (int j = 0; j < rule.agentIds().size(); j++) {
                String glob = rule.agentIds().get(j);
                if (!AUTH_NAME.matcher(glob).matches()) {
                    p.add(at + ".agentIds[" + j + "]: " + quote(glob) + " must be an agent id or a glob (* any"
                            + " characters, ? one): 1..4096 printable characters without spaces");
                }
            }
        }
        return p;
    }

    private static void tls(List<String> p, IntakeConfig.Tls t, Endpoint grpc, Endpoint http) {
        if (t.cert() == null && t.key() != null) {
            p.add("tls.cert: missing; tls.key is set and needs its certificate (--tls-cert)");
        } else if (t.cert() != null && t.key() == null) {
            p.add("tls.key: missing; tls.cert is set and needs its private key (--tls-key)");
        }
        if (t.cert() == null && t.clientCa() != null) {
            p.add("tls.clientCa: needs tls.cert and tls.key (--tls-cert, --tls-key): mutual TLS is TLS first");
        }
        if (t.cert() == null && t.http()) {
            p.add("tls.http: true needs tls.cert and tls.key (--tls-cert, --tls-key)");
        }
        if (t.clientAuth() == null) {
            p.add("tls.clientAuth: must be one of require|optional");
        }
        durationRange(p, "tls.reloadInterval", t.reloadInterval(), Duration.ofMillis(100), Duration.ofHours(1));
        if (!t.allowInsecure()) {
            // The listeners carry agents' data and the metrics; in plaintext they belong on loopback unless the
            // operator says otherwise, in so many words.
            if (!t.enabled() && !isLoopback(grpc.host()) && !blank(grpc.host())) {
                p.add("grpc.host: " + quote(grpc.host()) + " is not a loopback address and TLS is off; set tls.cert and"
                        + " tls.key (--tls-cert, --tls-key), listen on 127.0.0.1, or allow plaintext on the network with"
                        + " tls.allowInsecure: true (--insecure)");
            }
            if (!t.onHttp() && !isLoopback(http.host()) && !blank(http.host())) {
                p.add("http.host: " + quote(http.host()) + " is not a loopback address and the HTTP port is plaintext;"
                        + (t.enabled() ? " set tls.http: true," : " set tls.cert, tls.key and tls.http: true,")
                        + " listen on 127.0.0.1, or allow plaintext on the network with tls.allowInsecure: true"
                        + " (--insecure)");
            }
        }
    }

    /** A blank host is already reported by {@link #endpoint}. */
    private static boolean blank(String host) {
        return host == null || host.isBlank();
    }

    /** By the text alone: this class does no name lookups, so a host name other than localhost counts as network. */
    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static final java.util.regex.Pattern TOPIC = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final java.util.regex.Pattern BOOTSTRAP =
            java.util.regex.Pattern.compile("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}(,[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5})*");

    private static void forwarder(List<String> p, Forwarding f) {
        if (!f.kafka().equals("embedded") && !f.kafka().equals("none") && !BOOTSTRAP.matcher(f.kafka()).matches()) {
            p.add("forwarder.kafka: " + quote(f.kafka()) + " is not embedded, none, or a list of host:port");
        }
        if (!TOPIC.matcher(f.topic()).matches()) {
            p.add("forwarder.topic: " + quote(f.topic()) + " must be 1..249 characters from A-Z a-z 0-9 . _ -");
        }
        if (f.maxInflightBytes() < (1 << 20) || f.maxInflightBytes() > (1L << 30)) {
            p.add("forwarder.maxInflightBytes: " + f.maxInflightBytes() + " is outside 1MiB..1GiB");
        }
        if (!(f.backlogMinShare() > 0 && f.backlogMinShare() < 1)) {
            p.add("forwarder.backlogMinShare: " + f.backlogMinShare() + " must be between 0 and 1 (exclusive)");
        }
        positive(p, "forwarder.liveMaxLag", f.liveMaxLag());
        positive(p, "forwarder.retention", f.retention());
        positive(p, "forwarder.progressInterval", f.progressInterval());
        if (!f.deadLetterTopic().isEmpty() && !TOPIC.matcher(f.deadLetterTopic()).matches()) {
            p.add("forwarder.deadLetterTopic: " + quote(f.deadLetterTopic())
                    + " must be 1..249 characters from A-Z a-z 0-9 . _ - (empty = <topic>.dlq)");
        } else if (f.deadLetterTopicName().equals(f.topic())) {
            p.add("forwarder.deadLetterTopic: " + quote(f.deadLetterTopic()) + " is the topic itself; dead letters"
                    + " need a topic of their own");
        }
        if (ValueEncoding.find(f.encoding()).isEmpty()) {
            p.add(ConfigText.notOneOf("forwarder.encoding", f.encoding(), ValueEncoding.allowed()));
        }
        IntakeConfig.TopicSettings t = f.topicSettings();
        intRange(p, "forwarder.topicSettings.partitions", t.partitions(), 1, 10_000);
        intRange(p, "forwarder.topicSettings.replicationFactor", t.replicationFactor(), 0, 32);
        intRange(p, "forwarder.topicSettings.minInsyncReplicas", t.minInsyncReplicas(), 0, 32);
        if (t.replicationFactor() > 0 && t.minInsyncReplicas() > t.replicationFactor()) {
            p.add("forwarder.topicSettings.minInsyncReplicas: " + t.minInsyncReplicas() + " is more than the "
                    + "replication factor " + t.replicationFactor() + "; no write could ever be acknowledged");
        }
        if (t.maxMessageBytes() != 0) {
            sizeRange(p, "forwarder.topicSettings.maxMessageBytes", t.maxMessageBytes(), 4096, GIB);
        }
        security(p, f);
    }

    /**
     * {@code forwarder.security} is the one place for TLS and SASL: the producer map may not hold a password
     * (it would sit in the config file) nor contradict the section.
     */
    private static void security(List<String> p, Forwarding f) {
        p.addAll(f.security().problems("forwarder.security"));
        if (f.kafka().equals("embedded") && f.security().protocol() != KafkaSecurity.Protocol.PLAINTEXT) {
            p.add("forwarder.security.protocol: " + f.security().protocol() + " with forwarder.kafka embedded, whose"
                    + " broker listens in plaintext on 127.0.0.1; set forwarder.kafka to the brokers' host:port list");
        }
        for (String key : new java.util.TreeSet<>(f.producer().keySet())) {
            if (key.equals("sasl.jaas.config") || key.equals("ssl.keystore.key") || key.endsWith(".password")) {
                p.add("forwarder.producer." + key + ": holds a secret in the config file; use forwarder.security"
                        + " (sasl.passwordFile or sasl.passwordEnv, tls.cert and tls.key)");
            } else if (f.security().protocol() != KafkaSecurity.Protocol.PLAINTEXT
                    && (key.equals("security.protocol") || key.startsWith("ssl.") || key.startsWith("sasl."))) {
                p.add("forwarder.producer." + key + ": set by forwarder.security; remove it here");
            }
        }
    }

    /**
     * The intake must not acknowledge an event it can never forward: its event limit must fit what the producer
     * ({@code max.request.size}) and the topic ({@code max.message.bytes}, when configured) accept, with the
     * headers the forwarder adds for the longest agent id allowed.
     */
    private static void forwardable(List<String> p, String nodeId, Limits l, Forwarding f) {
        ForwardLimit limit;
        try {
            limit = f.forwardLimit(nodeId);
        } catch (IllegalArgumentException e) {
            p.add(e.getMessage());
            return;
        }
        int fits = limit.maxEventBytes(l.maxAgentIdBytes());
        if (fits < 1024) {
            p.add("forwarder.producer.max.request.size: Kafka would take events of at most " + fits + " bytes ("
                    + limit.explain(l.maxAgentIdBytes()) + "); raise it");
        } else if (l.maxEventBytes() > fits) {
            p.add("limits.maxEventBytes: " + ByteSizes.format(l.maxEventBytes()) + " is more than Kafka would take"
                    + " from an agent id of limits.maxAgentIdBytes=" + l.maxAgentIdBytes() + " bytes: at most " + fits
                    + " bytes (" + limit.explain(l.maxAgentIdBytes()) + "); lower it, or raise those (0 = follow them)");
        }
    }

    private static void positive(List<String> p, String field, java.time.Duration d) {
        if (d.isNegative() || d.isZero()) {
            p.add(field + ": " + d + " must be positive");
        }
    }

    private static void endpoint(List<String> p, String section, Endpoint e) {
        String hostProblem = ConfigText.listenHostProblem(section + ".host", e.host());
        if (hostProblem != null) {
            p.add(hostProblem);
        }
        if (e.port() < 0 || e.port() > 65535) {
            p.add(section + ".port: " + e.port() + " is outside 1..65535 (0 = pick a free port)");
        }
    }

    private static boolean overlap(String a, String b) {
        return a.equals(b) || isWildcard(a) || isWildcard(b);
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static void limits(List<String> p, Limits l) {
        // gRPC frames are capped at 2GiB and a batch is held whole in memory; 1GiB is already absurd.
        sizeRange(p, "limits.maxBatchBytes", l.maxBatchBytes(), 1, GIB);
        intRange(p, "limits.maxEventsPerBatch", l.maxEventsPerBatch(), 1, 1_000_000);
        intRange(p, "limits.maxAgentIdBytes", l.maxAgentIdBytes(), 1, 4096);
        if (l.maxEventBytes() != 0) {
            sizeRange(p, "limits.maxEventBytes", l.maxEventBytes(), 1, l.maxBatchBytes());
        }
        IntakeConfig.Connections c = l.connections();
        intRange(p, "limits.connections.max", c.max(), 1, 1_000_000);
        intRange(p, "limits.connections.maxPerAddress", c.maxPerAddress(), 1, c.max() >= 1 ? c.max() : 1_000_000);
        intRange(p, "limits.connections.fdReserve", c.fdReserve(), 0, 100_000);
        durationRange(p, "limits.connections.idleTimeout", c.idleTimeout(), Duration.ofSeconds(1), Duration.ofDays(1));
        durationRange(p, "limits.connections.requestTimeout", c.requestTimeout(), Duration.ofMillis(100),
                Duration.ofMinutes(10));
        if (l.maxBatchBytes() >= 1 && l.maxBatchBytes() <= GIB && c.partialMessageBytes() < l.messageBytes()) {
            // otherwise the largest message the transport takes would have its connection closed half-way
            p.add("limits.connections.partialMessageBytes: " + ByteSizes.format(c.partialMessageBytes())
                    + " must be >= 2 x limits.maxBatchBytes + 1MiB (" + ByteSizes.format(l.messageBytes())
                    + "), the largest message the intake reads");
        }
        if (c.partialMessageBytesTotal() < c.partialMessageBytes()) {
            p.add("limits.connections.partialMessageBytesTotal: " + ByteSizes.format(c.partialMessageBytesTotal())
                    + " must be >= limits.connections.partialMessageBytes ("
                    + ByteSizes.format(c.partialMessageBytes()) + ")");
        }
        if (l.maxInflightBytes() < l.maxBatchBytes()) {
            // Otherwise a single maximal batch could never be admitted.
            p.add("limits.maxInflightBytes: " + ByteSizes.format(l.maxInflightBytes())
                    + " must be >= limits.maxBatchBytes (" + ByteSizes.format(l.maxBatchBytes()) + ")");
        }
    }

    private static void wal(List<String> p, Wal w) {
        sizeRange(p, "wal.blockSize", w.blockSize(), MIB, GIB);
        if (w.maxBytes() < w.blockSize()) {
            p.add("wal.maxBytes: " + ByteSizes.format(w.maxBytes()) + " must be >= wal.blockSize ("
                    + ByteSizes.format(w.blockSize()) + "); a WAL file grows in blocks");
        }
        if (w.minFreeBytes() < 0) {
            p.add("wal.minFreeBytes: " + w.minFreeBytes() + " must be >= 0");
        }
        boolean bulkOk = fraction(p, "wal.bulkWatermark", w.bulkWatermark());
        boolean normalOk = fraction(p, "wal.normalWatermark", w.normalWatermark());
        if (bulkOk && normalOk && w.bulkWatermark() > w.normalWatermark()) {
            // Bulk traffic must be shed before (or when) normal traffic is, never after.
            p.add("wal.bulkWatermark: " + w.bulkWatermark() + " must be <= wal.normalWatermark ("
                    + w.normalWatermark() + "); required: 0 < bulkWatermark <= normalWatermark < 1");
        }
        durationRange(p, "wal.retryAfter", w.retryAfter(), Duration.ofMillis(1), Duration.ofHours(1));
        durationRange(p, "wal.groupCommitMaxDelay", w.groupCommitMaxDelay(), Duration.ZERO, Duration.ofMillis(100));
        sizeRange(p, "wal.groupCommitMaxBytes", w.groupCommitMaxBytes(), 1, GIB);
        if (w.rollCycle() == null) {
            p.add("wal.rollCycle: must be one of " + rollCycles());
        }
    }

    static String rollCycles() {
        StringBuilder sb = new StringBuilder();
        for (IntakeConfig.RollCycle c : IntakeConfig.RollCycle.values()) {
            sb.append(sb.length() == 0 ? "" : "|").append(c.name());
        }
        return sb.toString();
    }

    private static boolean fraction(List<String> p, String field, double v) {
        if (!(v > 0 && v < 1)) { // also rejects NaN
            p.add(field + ": " + v + " must be > 0 and < 1 (a fraction of wal.maxBytes); required: "
                    + "0 < bulkWatermark <= normalWatermark < 1");
            return false;
        }
        return true;
    }

    private static void intRange(List<String> p, String field, long v, long min, long max) {
        if (v < min || v > max) {
            p.add(field + ": " + v + " is outside " + min + ".." + max);
        }
    }

    private static void sizeRange(List<String> p, String field, long v, long min, long max) {
        if (v < min || v > max) {
            p.add(field + ": " + ByteSizes.format(v) + " is outside " + ByteSizes.format(min) + ".."
                    + ByteSizes.format(max));
        }
    }

    private static void durationRange(List<String> p, String field, Duration v, Duration min, Duration max) {
        if (v == null) {
            p.add(field + ": must be set (" + Durations.format(min) + ".." + Durations.format(max) + ")");
        } else if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            p.add(field + ": " + Durations.format(v) + " is outside " + Durations.format(min) + ".."
                    + Durations.format(max));
        }
    }
}
