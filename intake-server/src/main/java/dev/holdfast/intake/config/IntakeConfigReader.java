package dev.holdfast.intake.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.config.ConfigText;
import dev.holdfast.config.YamlFile;
import dev.holdfast.config.YamlSection;
import dev.holdfast.forwarder.kafka.KafkaSecurity;
import dev.holdfast.intake.config.IntakeConfig.Endpoint;
import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig.Limits;
import dev.holdfast.intake.config.IntakeConfig.RollCycle;
import dev.holdfast.intake.config.IntakeConfig.Wal;
import dev.holdfast.intake.config.IntakeConfig.Forwarding;
import dev.holdfast.intake.config.IntakeConfig.TopicSettings;
import dev.holdfast.intake.config.IntakeConfig.Tls;
import dev.holdfast.config.LogSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a YAML file into a {@link ConfigDraft}, collecting problems instead of stopping at the first.
 *
 * <p>The file is read as a tree and walked by hand rather than data-bound: binding stops at the first
 * bad value and reports Java types, while an operator wants every problem, named by YAML path.
 * A field with a bad value keeps its default in the draft so the remaining rules can still be checked.
 */
final class IntakeConfigReader {

    record Result(ConfigDraft draft, List<String> problems) {}

    private IntakeConfigReader() {}

    /** Throws {@link InvalidConfigException} only when the file cannot be read or parsed at all. */
    static Result read(Path file, ConfigDraft defaults, java.util.function.Function<String, String> getenv) {
        List<String> problems = new ArrayList<>();
        JsonNode root = parse(file, getenv, problems);
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new Result(defaults, problems); // an empty file means "all defaults"
        }
        YamlSection top = YamlSection.root(root, problems);
        if (top == null) {
            return new Result(defaults, problems);
        }
        String nodeId = top.string("nodeId", defaults.nodeId());
        Path dataDir = path(top.string("dataDir", defaults.dataDir().toString()), defaults.dataDir(), problems);
        Durability durability = top.oneOf("durability", defaults.durability(), Durability.allowed(),
                s -> Durability.parse(s).orElse(null));
        Endpoint grpc = endpoint(top.section("grpc"), defaults.grpc());
        Endpoint http = endpoint(top.section("http"), defaults.http());
        Limits limits = limits(top.section("limits"), defaults.limits());
        Wal wal = wal(top.section("wal"), defaults.wal());
        Forwarding forwarder = forwarder(top.section("forwarder"), defaults.forwarder());
        Tls tls = tls(top.section("tls"), defaults.tls(), problems);
        IntakeConfig.Auth auth = auth(top.section("auth"), defaults.auth());
        IntakeConfig.Otlp otlp = otlp(top.section("otlp"), defaults.otlp());
        LogSettings log = LogSettings.read(top.section("log"), defaults.log());
        top.rejectUnknownKeys();
        return new Result(new ConfigDraft(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, tls, auth,
                otlp, log), problems);
    }

    private static JsonNode parse(Path file, java.util.function.Function<String, String> getenv,
                                  List<String> problems) {
        try {
            return YamlFile.read(file, getenv, problems);
        } catch (YamlFile.UnreadableException e) {
            throw new InvalidConfigException(List.of(e.getMessage()));
        }
    }

    private static Path path(String text, Path dflt, List<String> problems) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            problems.add("dataDir: " + ConfigText.quote(text) + " is not a valid path: " + e.getReason());
            return dflt;
        }
    }

    private static Tls tls(YamlSection s, Tls d, List<String> problems) {
        Tls t = new Tls(
                file(s, "cert", d.cert(), problems),
                file(s, "key", d.key(), problems),
                file(s, "clientCa", d.clientCa(), problems),
                s.oneOf("clientAuth", d.clientAuth(), "require|optional", IntakeConfigReader::clientAuth),
                s.bool("http", d.http()),
                s.bool("allowInsecure", d.allowInsecure()),
                s.duration("reloadInterval", d.reloadInterval()));
        s.rejectUnknownKeys();
        return t;
    }

    /** An empty or missing value is "no file". */
    private static Path file(YamlSection s, String key, Path dflt, List<String> problems) {
        String text = s.string(key, dflt == null ? null : dflt.toString());
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            problems.add("tls." + key + ": " + ConfigText.quote(text) + " is not a valid path: " + e.getReason());
            return dflt;
        }
    }

    private static Tls.ClientAuth clientAuth(String name) {
        return switch (name) {
            case "require" -> Tls.ClientAuth.REQUIRE;
            case "optional" -> Tls.ClientAuth.OPTIONAL;
            default -> null;
        };
    }

    private static Endpoint endpoint(YamlSection s, Endpoint d) {
        Endpoint e = new Endpoint(s.string("host", d.host()), (int) s.integer("port", d.port()));
        s.rejectUnknownKeys();
        return e;
    }

    private static Limits limits(YamlSection s, Limits d) {
        long maxBatchBytes = s.size("maxBatchBytes", d.maxBatchBytes());
        // a larger maxBatchBytes raises the default budget for messages in progress with it, so that it still
        // holds the largest message read (a value set explicitly is validated instead)
        long messageBytes = Limits.messageBytes(maxBatchBytes);
        IntakeConfig.Connections dc = d.connections();
        long partial = Math.max(dc.partialMessageBytes(), messageBytes);
        IntakeConfig.Connections defaults = new IntakeConfig.Connections(dc.max(), dc.maxPerAddress(), dc.fdReserve(),
                dc.idleTimeout(), dc.requestTimeout(), partial, Math.max(dc.partialMessageBytesTotal(), partial));
        Limits l = new Limits(
                maxBatchBytes,
                (int) s.integer("maxEventsPerBatch", d.maxEventsPerBatch()),
                (int) s.integer("maxAgentIdBytes", d.maxAgentIdBytes()),
                s.size("maxInflightBytes", d.maxInflightBytes()),
                s.size("maxEventBytes", d.maxEventBytes()),
                connections(s.section("connections"), defaults));
        s.rejectUnknownKeys();
        return l;
    }

    private static IntakeConfig.Connections connections(YamlSection s, IntakeConfig.Connections d) {
        IntakeConfig.Connections c = new IntakeConfig.Connections(
                (int) s.integer("max", d.max()),
                (int) s.integer("maxPerAddress", d.maxPerAddress()),
                (int) s.integer("fdReserve", d.fdReserve()),
                s.duration("idleTimeout", d.idleTimeout()),
                s.duration("requestTimeout", d.requestTimeout()),
                s.size("partialMessageBytes", d.partialMessageBytes()),
                s.size("partialMessageBytesTotal", d.partialMessageBytesTotal()));
        s.rejectUnknownKeys();
        return c;
    }

    private static Wal wal(YamlSection s, Wal d) {
        Wal w = new Wal(
                s.size("maxBytes", d.maxBytes()),
                s.size("minFreeBytes", d.minFreeBytes()),
                s.decimal("bulkWatermark", d.bulkWatermark()),
                s.decimal("normalWatermark", d.normalWatermark()),
                s.duration("retryAfter", d.retryAfter()),
                s.duration("groupCommitMaxDelay", d.groupCommitMaxDelay()),
                s.size("groupCommitMaxBytes", d.groupCommitMaxBytes()),
                s.oneOf("rollCycle", d.rollCycle(), IntakeConfigValidator.rollCycles(), IntakeConfigReader::rollCycle),
                s.size("blockSize", d.blockSize()));
        s.rejectUnknownKeys();
        return w;
    }

    /**
     * {@code otlp}: {@code http.port}, {@code topics.logs|spans|metrics}, {@code encoding}, and {@code priority}:
     * {@code logs}, {@code traces}, {@code metrics}, {@code errorLogs}, {@code errorSeverity} and {@code rules}
     * (a list of {@code {signal, attribute, value, priority}}, matched against resource attributes in order).
     */
    private static IntakeConfig.Otlp otlp(YamlSection s, IntakeConfig.Otlp d) {
        YamlSection http = s.section("http");
        int port = (int) http.integer("port", d.httpPort());
        http.rejectUnknownKeys();
        YamlSection topics = s.section("topics");
        String logs = topics.string("logs", d.topics().logs());
        String spans = topics.string("spans", d.topics().spans());
        String metrics = topics.string("metrics", d.topics().metrics());
        topics.rejectUnknownKeys();
        String encoding = s.string("encoding", d.encoding());
        YamlSection p = s.section("priority");
        dev.holdfast.intake.otlp.OtlpPriorities dp = d.priority();
        java.util.List<YamlSection> listed = p.sectionList("rules");
        java.util.List<dev.holdfast.intake.otlp.OtlpPriorities.AttributeRule> rules = listed == null ? dp.rules()
                : new java.util.ArrayList<>();
        for (YamlSection r : listed == null ? java.util.List.<YamlSection>of() : listed) {
            dev.holdfast.otlp.OtlpSignal signal = r.oneOf("signal", null, "logs|traces|metrics",
                    IntakeConfigReader::signal);
            String attribute = r.string("attribute", "");
            String value = r.string("value", "");
            dev.holdfast.wal.BatchPriority priority = r.oneOf("priority", dev.holdfast.wal.BatchPriority.NORMAL,
                    PRIORITIES, IntakeConfigReader::priority);
            if (attribute.isEmpty()) {
                r.problem("attribute", "must name a resource attribute");
            }
            r.rejectUnknownKeys();
            rules.add(new dev.holdfast.intake.otlp.OtlpPriorities.AttributeRule(signal, attribute, value, priority));
        }
        dev.holdfast.intake.otlp.OtlpPriorities priorities = new dev.holdfast.intake.otlp.OtlpPriorities(
                p.oneOf("logs", dp.logs(), PRIORITIES, IntakeConfigReader::priority),
                p.oneOf("traces", dp.traces(), PRIORITIES, IntakeConfigReader::priority),
                p.oneOf("metrics", dp.metrics(), PRIORITIES, IntakeConfigReader::priority),
                p.oneOf("errorLogs", dp.errorLogs(), PRIORITIES, IntakeConfigReader::priority),
                (int) p.integer("errorSeverity", dp.errorSeverity()), rules);
        p.rejectUnknownKeys();
        s.rejectUnknownKeys();
        return new IntakeConfig.Otlp(new IntakeConfig.Otlp.Http(port), new IntakeConfig.Otlp.Topics(logs, spans,
                metrics), encoding, priorities);
    }

    private static final String PRIORITIES = "critical|normal|bulk";

    private static dev.holdfast.wal.BatchPriority priority(String text) {
        return switch (text) {
            case "critical" -> dev.holdfast.wal.BatchPriority.CRITICAL;
            case "normal" -> dev.holdfast.wal.BatchPriority.NORMAL;
            case "bulk" -> dev.holdfast.wal.BatchPriority.BULK;
            default -> null;
        };
    }

    private static dev.holdfast.otlp.OtlpSignal signal(String text) {
        for (dev.holdfast.otlp.OtlpSignal s : dev.holdfast.otlp.OtlpSignal.values()) {
            if (s.configName().equals(text)) {
                return s;
            }
        }
        return null;
    }

    private static Forwarding forwarder(YamlSection s, Forwarding d) {
        Forwarding f = new Forwarding(
                s.bool("enabled", d.enabled()),
                s.string("kafka", d.kafka()),
                s.string("topic", d.topic()),
                s.size("maxInflightBytes", d.maxInflightBytes()),
                s.decimal("backlogMinShare", d.backlogMinShare()),
                s.duration("liveMaxLag", d.liveMaxLag()),
                s.duration("retention", d.retention()),
                s.duration("progressInterval", d.progressInterval()),
                s.stringMap("producer", d.producer()),
                s.string("deadLetterTopic", d.deadLetterTopic()),
                s.string("encoding", d.encoding()),
                topicSettings(s.section("topicSettings"), d.topicSettings()),
                security(s.section("security"), d.security()));
        s.rejectUnknownKeys();
        return f;
    }

    /** {@code forwarder.security}: absent sub-sections (all their keys absent) are null. */
    private static KafkaSecurity security(YamlSection s, KafkaSecurity d) {
        KafkaSecurity.Protocol protocol = s.oneOf("protocol", d.protocol(), KafkaSecurity.Protocol.allowed(),
                n -> KafkaSecurity.Protocol.find(n).orElse(null));
        YamlSection t = s.section("tls");
        Path ca = file(t, "ca");
        Path cert = file(t, "cert");
        Path key = file(t, "key");
        t.rejectUnknownKeys();
        KafkaSecurity.Tls tls = ca == null && cert == null && key == null ? d.tls() : new KafkaSecurity.Tls(ca, cert, key);
        YamlSection a = s.section("sasl");
        KafkaSecurity.Mechanism mechanism = a.oneOf("mechanism", null, KafkaSecurity.Mechanism.allowed(),
                n -> KafkaSecurity.Mechanism.find(n).orElse(null));
        String username = a.string("username", null);
        Path passwordFile = file(a, "passwordFile");
        String passwordEnv = a.string("passwordEnv", null);
        if (a.has("password")) { // whatever its type: a number must not be echoed either
            // the value is not repeated: it is a secret
            a.problem("password", "a password is not taken inline (it would sit in this file, its backups and"
                    + " diffs); put it in a file readable only by Holdfast (passwordFile) or an environment variable"
                    + " (passwordEnv)");
        }
        a.rejectUnknownKeys();
        KafkaSecurity.Sasl sasl = mechanism == null && username == null && passwordFile == null && passwordEnv == null
                ? d.sasl() : new KafkaSecurity.Sasl(mechanism, username, passwordFile, passwordEnv);
        s.rejectUnknownKeys();
        return new KafkaSecurity(protocol, tls, sasl);
    }

    private static Path file(YamlSection s, String key) {
        String text = s.string(key, null);
        if (text == null) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            s.problem(key, ConfigText.quote(text) + " is not a valid path: " + e.getReason());
            return null;
        }
    }

    private static TopicSettings topicSettings(YamlSection s, TopicSettings d) {
        TopicSettings t = new TopicSettings(
                (int) s.integer("partitions", d.partitions()),
                (int) s.integer("replicationFactor", d.replicationFactor()),
                (int) s.integer("minInsyncReplicas", d.minInsyncReplicas()),
                s.size("maxMessageBytes", d.maxMessageBytes()));
        s.rejectUnknownKeys();
        return t;
    }

    private static IntakeConfig.Auth auth(YamlSection s, IntakeConfig.Auth d) {
        IntakeConfig.Auth.Require require = s.oneOf("require", d.require(), IntakeConfig.Auth.Require.allowed(),
                IntakeConfig.Auth.Require::parse);
        String tokensText = s.string("tokens", d.tokens() == null ? null : d.tokens().toString());
        Path tokens = d.tokens();
        if (tokensText != null) {
            try {
                tokens = tokensText.isEmpty() ? null : Path.of(tokensText);
            } catch (InvalidPathException e) {
                s.problem("tokens", ConfigText.quote(tokensText) + " is not a valid path: " + e.getReason());
            }
        }
        List<IntakeConfig.AgentRule> agents = d.agents();
        List<YamlSection> rules = s.sectionList("agents");
        if (rules != null) {
            agents = new ArrayList<>();
            for (YamlSection r : rules) {
                agents.add(new IntakeConfig.AgentRule(r.string("identity", ""), r.stringList("agentIds", List.of())));
                r.rejectUnknownKeys();
            }
        }
        String httpToken = s.string("httpToken", d.httpToken());
        s.rejectUnknownKeys();
        return new IntakeConfig.Auth(require, tokens, agents, httpToken);
    }

    private static RollCycle rollCycle(String name) {
        for (RollCycle c : RollCycle.values()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
