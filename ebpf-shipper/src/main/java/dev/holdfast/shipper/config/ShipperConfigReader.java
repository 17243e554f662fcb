package dev.holdfast.shipper.config;

import dev.holdfast.client.Endpoints;
import static dev.holdfast.config.ConfigText.quote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.config.LocalHost;
import dev.holdfast.config.YamlFile;
import dev.holdfast.config.YamlSection;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.ShipperConfig.Batch;
import dev.holdfast.shipper.config.ShipperConfig.Intake;
import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.shipper.config.ShipperConfig.Metrics;
import dev.holdfast.shipper.config.ShipperConfig.Spool;
import dev.holdfast.shipper.config.ShipperConfig.Watch;
import dev.holdfast.config.LogSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a YAML file into a {@link ShipperConfig}, collecting every problem (syntax of values here, ranges in
 * {@link ShipperConfigValidator}) before failing. A field with a bad value keeps its default so the remaining
 * rules can still be checked.
 */
final class ShipperConfigReader {

    private ShipperConfigReader() {}

    static ShipperConfig read(Path file, Overrides o, java.util.function.Function<String, String> getenv) {
        JsonNode root;
        List<String> problems = new ArrayList<>();
        try {
            root = YamlFile.read(file, getenv, problems);
        } catch (YamlFile.UnreadableException e) {
            throw new InvalidConfigException(List.of(e.getMessage()));
        }
        YamlSection top = root == null || root.isMissingNode() || root.isNull()
                ? YamlSection.root(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), problems)
                : YamlSection.root(root, problems);
        if (top == null) {
            throw new InvalidConfigException(problems);
        }
        String agentId = o.agentId(top.string("agentId", LocalHost.name()));
        Intake intake = o.intake(intake(top.section("intake")));
        Batch batch = batch(top.section("batch"));
        Spool spool = o.spool(spool(top.section("spool")));
        SourceKind source = o.source(source(top.section("source")));
        Watch watch = o.watch(watch(top.section("watch")));
        PriorityRules priority = priority(top.section("priority"));
        Metrics metrics = o.metrics(metrics(top.section("metrics")));
        LogSettings log = LogSettings.read(top.section("log"), LogSettings.DEFAULTS);
        top.rejectUnknownKeys();
        if (!problems.isEmpty()) {
            // Range rules too, but not about a field already reported: they would judge its default instead.
            Set<String> reported = problems.stream().map(ShipperConfigReader::fieldOf).collect(Collectors.toSet());
            for (String p : ShipperConfigValidator.problems(agentId, intake, batch, spool, watch, priority, metrics)) {
                if (!reported.contains(fieldOf(p))) {
                    problems.add(p);
                }
            }
            throw new InvalidConfigException(problems);
        }
        return new ShipperConfig(agentId, intake, batch, spool, source, watch, priority, metrics, log);
    }

    /** "intake.endpoints" for "intake.endpoints[2]: ...": the field a problem is about, list items folded. */
    private static String fieldOf(String problem) {
        int colon = problem.indexOf(": ");
        String field = colon < 0 ? problem : problem.substring(0, colon);
        int bracket = field.indexOf('[');
        return bracket < 0 ? field : field.substring(0, bracket);
    }

    private static Intake intake(YamlSection s) {
        Intake d = ShipperConfig.defaultIntake(List.of());
        List<Endpoints.Target> endpoints = new ArrayList<>();
        List<String> texts = s.stringList("endpoints", List.of());
        for (int i = 0; i < texts.size(); i++) {
            try {
                endpoints.add(Endpoints.Target.parse(texts.get(i)));
            } catch (IllegalArgumentException e) {
                s.problem("endpoints[" + i + "]", e.getMessage());
            }
        }
        Intake in = new Intake(endpoints,
                s.duration("dnsRefresh", d.dnsRefresh()),
                s.duration("connectTimeout", d.connectTimeout()),
                s.duration("backoffBase", d.backoffBase()),
                s.duration("backoffCap", d.backoffCap()),
                (int) s.integer("window", d.window()),
                tls(s.section("tls")),
                file(s, "tokenFile"));
        s.rejectUnknownKeys();
        return in;
    }

    private static ShipperConfig.Tls tls(YamlSection s) {
        ShipperConfig.Tls t = new ShipperConfig.Tls(file(s, "ca"), file(s, "cert"), file(s, "key"),
                blankToNull(s.string("serverName", null)));
        s.rejectUnknownKeys();
        return t;
    }

    private static Path file(YamlSection s, String key) {
        String text = blankToNull(s.string(key, null));
        if (text == null) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            s.problem(key, "\"" + text + "\" is not a valid path: " + e.getReason());
            return null;
        }
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    private static Batch batch(YamlSection s) {
        Batch d = ShipperConfig.defaultBatch();
        Batch b = new Batch((int) s.integer("maxEvents", d.maxEvents()), s.size("maxBytes", d.maxBytes()),
                s.duration("maxDelay", d.maxDelay()));
        s.rejectUnknownKeys();
        return b;
    }

    private static Spool spool(YamlSection s) {
        Spool d = ShipperConfig.defaultSpool();
        String dirText = s.string("dir", d.dir().toString());
        Path dir = d.dir();
        try {
            dir = Path.of(dirText);
        } catch (InvalidPathException e) {
            s.problem("dir", quote(dirText) + " is not a valid path: " + e.getReason());
        }
        Spool sp = new Spool(dir, s.size("maxBytes", d.maxBytes()), s.size("minFreeDisk", d.minFreeDisk()));
        s.rejectUnknownKeys();
        return sp;
    }

    private static SourceKind source(YamlSection s) {
        SourceKind k = s.oneOf("kind", SourceKind.EBPF, SourceKind.ALLOWED, SourceKind::parse);
        s.rejectUnknownKeys();
        return k;
    }

    private static Watch watch(YamlSection s) {
        Watch d = ShipperConfig.defaultWatch();
        Watch w = new Watch(
                s.stringList("include", d.include()),
                s.stringList("exclude", d.exclude()),
                s.stringList("includeNames", d.includeNames()),
                s.stringList("excludeNames", d.excludeNames()),
                s.stringList("excludeComms", d.excludeComms()),
                s.bool("emitReads", d.emitReads()),
                s.duration("modifyInterval", d.modifyInterval()),
                s.size("ringBufferBytes", d.ringBufferBytes()));
        s.rejectUnknownKeys();
        return w;
    }

    private static PriorityRules priority(YamlSection s) {
        Priority dflt = s.oneOf("default", Priority.NORMAL, PriorityRules.ALLOWED, PriorityRules::parse);
        List<PriorityRules.Rule> rules = new ArrayList<>();
        List<YamlSection> items = s.sectionList("rules");
        for (YamlSection r : items == null ? List.<YamlSection>of() : items) {
            String prefix = r.string("prefix", null);
            String name = r.string("priority", null);
            Priority p = name == null ? null : PriorityRules.parse(name);
            if (prefix == null) {
                r.problem("prefix", "required (an absolute path prefix)");
            }
            if (name == null) {
                r.problem("priority", "required (one of " + PriorityRules.ALLOWED + ")");
            } else if (p == null) {
                r.problem("priority", quote(name) + " is not one of " + PriorityRules.ALLOWED);
            }
            r.rejectUnknownKeys();
            if (prefix != null && p != null) {
                rules.add(new PriorityRules.Rule(prefix, p));
            }
        }
        s.rejectUnknownKeys();
        return new PriorityRules(dflt, rules);
    }

    private static Metrics metrics(YamlSection s) {
        Metrics m = new Metrics(s.string("host", Metrics.DEFAULT_HOST), (int) s.integer("port", Metrics.DEFAULT_PORT));
        s.rejectUnknownKeys();
        return m;
    }
}
