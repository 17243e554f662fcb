package dev.holdfast.intake.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.config.ConfigText;
import dev.holdfast.config.YamlFile;
import dev.holdfast.config.YamlSection;
import dev.holdfast.intake.config.IntakeConfig.Endpoint;
import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig.Limits;
import dev.holdfast.intake.config.IntakeConfig.RollCycle;
import dev.holdfast.intake.config.IntakeConfig.Wal;
import dev.holdfast.intake.config.IntakeConfig.Forwarding;
import dev.holdfast.intake.config.IntakeConfig.TopicSettings;
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
final class YamlConfigReader {

    record Result(ConfigDraft draft, List<String> problems) {}

    private YamlConfigReader() {}

    /** Throws {@link InvalidConfigException} only when the file cannot be read or parsed at all. */
    static Result read(Path file, ConfigDraft defaults) {
        JsonNode root = parse(file);
        List<String> problems = new ArrayList<>();
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
        top.rejectUnknownKeys();
        return new Result(new ConfigDraft(nodeId, dataDir, durability, grpc, http, limits, wal, forwarder), problems);
    }

    private static JsonNode parse(Path file) {
        try {
            return YamlFile.read(file);
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

    private static Endpoint endpoint(YamlSection s, Endpoint d) {
        Endpoint e = new Endpoint(s.string("host", d.host()), (int) s.integer("port", d.port()));
        s.rejectUnknownKeys();
        return e;
    }

    private static Limits limits(YamlSection s, Limits d) {
        Limits l = new Limits(
                s.size("maxBatchBytes", d.maxBatchBytes()),
                (int) s.integer("maxEventsPerBatch", d.maxEventsPerBatch()),
                (int) s.integer("maxAgentIdBytes", d.maxAgentIdBytes()),
                s.size("maxInflightBytes", d.maxInflightBytes()),
                s.size("maxEventBytes", d.maxEventBytes()),
                connections(s.section("connections"), d.connections()));
        s.rejectUnknownKeys();
        return l;
    }

    private static IntakeConfig.Connections connections(YamlSection s, IntakeConfig.Connections d) {
        IntakeConfig.Connections c = new IntakeConfig.Connections(
                (int) s.integer("max", d.max()),
                (int) s.integer("maxPerAddress", d.maxPerAddress()),
                (int) s.integer("fdReserve", d.fdReserve()),
                s.duration("idleTimeout", d.idleTimeout()),
                s.duration("requestTimeout", d.requestTimeout()));
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
                s.oneOf("rollCycle", d.rollCycle(), ConfigValidator.rollCycles(), YamlConfigReader::rollCycle),
                s.size("blockSize", d.blockSize()));
        s.rejectUnknownKeys();
        return w;
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
                topicSettings(s.section("topicSettings"), d.topicSettings()));
        s.rejectUnknownKeys();
        return f;
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

    private static RollCycle rollCycle(String name) {
        for (RollCycle c : RollCycle.values()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
