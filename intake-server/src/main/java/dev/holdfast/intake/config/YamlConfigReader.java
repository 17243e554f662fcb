package dev.holdfast.intake.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.holdfast.intake.config.IntakeConfig.Endpoint;
import dev.holdfast.intake.config.IntakeConfig.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig.Limits;
import dev.holdfast.intake.config.IntakeConfig.RollCycle;
import dev.holdfast.intake.config.IntakeConfig.Wal;
import dev.holdfast.intake.config.IntakeConfig.Forwarding;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Turns a YAML file into a {@link ConfigDraft}, collecting problems instead of stopping at the first.
 *
 * <p>The file is read as a tree and walked by hand rather than data-bound: binding stops at the first
 * bad value and reports Java types, while an operator wants every problem, named by YAML path.
 * A field with a bad value keeps its default in the draft so the remaining rules can still be checked.
 */
final class YamlConfigReader {

    record Result(ConfigDraft draft, List<String> problems) {}

    // Duplicate keys are almost always a copy-paste mistake where the later value silently wins.
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

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
        try (InputStream in = Files.newInputStream(file)) {
            return YAML.readTree(in);
        } catch (NoSuchFileException e) {
            throw new InvalidConfigException(List.of("config file " + file + " does not exist"));
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new InvalidConfigException(List.of("config file " + file + ": invalid YAML" + where + ": " + what(e)));
        } catch (IOException e) {
            throw new InvalidConfigException(List.of("config file " + file + " cannot be read: " + e));
        }
    }

    /** The parser's complaint without its Java-flavoured framing; the location is reported separately. */
    private static String what(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException m && m.getProblem() != null) {
                return m.getContext() == null ? m.getProblem() : m.getProblem() + " (" + m.getContext() + ")";
            }
        }
        String msg = e.getOriginalMessage();
        Matcher dup = DUPLICATE.matcher(msg);
        if (dup.lookingAt()) {
            return "key '" + dup.group(1) + "' appears twice in the same section";
        }
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']*)'");

    private static Path path(String text, Path dflt, List<String> problems) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            problems.add("dataDir: " + ConfigValidator.quote(text) + " is not a valid path: " + e.getReason());
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
                s.size("maxInflightBytes", d.maxInflightBytes()));
        s.rejectUnknownKeys();
        return l;
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
                s.stringMap("producer", d.producer()));
        s.rejectUnknownKeys();
        return f;
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
