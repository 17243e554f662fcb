package dev.holdfast.config;

import static dev.holdfast.config.ConfigText.quote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

/**
 * One mapping of the YAML tree, read key by key. Every key asked for is remembered, so the set of known
 * keys for the "unknown key" message is exactly what the reader understands and cannot drift.
 * An absent or {@code null} value means "keep the default".
 */
public final class YamlSection {

    private final JsonNode node;
    private final String path; // "" for the top level, else "wal", "rules[2]" etc.
    private final List<String> problems;
    private final Set<String> known = new LinkedHashSet<>();

    private YamlSection(JsonNode node, String path, List<String> problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    /** Null (with a problem recorded) when the document is not a mapping. */
    public static YamlSection root(JsonNode root, List<String> problems) {
        if (!root.isObject()) {
            problems.add("top level: expected a mapping of keys to values, got " + describe(root));
            return null;
        }
        return new YamlSection(root, "", problems);
    }

    public YamlSection section(String key) {
        JsonNode v = value(key);
        if (v != null && !v.isObject()) {
            problems.add(field(key) + ": expected a section (a mapping of keys to values), got " + describe(v));
        }
        JsonNode body = v != null && v.isObject() ? v : JsonNodeFactory.instance.objectNode();
        return new YamlSection(body, field(key), problems);
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isBoolean()) {
            problems.add(field(key) + ": expected true or false, got " + describe(v));
            return dflt;
        }
        return v.booleanValue();
    }

    /** A flat mapping of names to scalar values, kept as strings (Kafka producer properties). */
    public java.util.Map<String, String> stringMap(String key, java.util.Map<String, String> dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isObject()) {
            problems.add(field(key) + ": expected a mapping of names to values, got " + describe(v));
            return dflt;
        }
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        v.fields().forEachRemaining(e -> {
            if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                out.put(e.getKey(), e.getValue().asText());
            } else {
                problems.add(field(key) + "." + e.getKey() + ": expected a single value, got " + describe(e.getValue()));
            }
        });
        return out;
    }

    public String string(String key, String dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isTextual()) {
            // YAML turns unquoted 007 into 7 and yes into true; insisting on a string avoids surprises.
            problems.add(field(key) + ": expected a string, got " + describe(v) + "; quote it");
            return dflt;
        }
        return v.textValue();
    }

    public long integer(String key, int dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        Long n = v.isIntegralNumber() && v.canConvertToLong() ? Long.valueOf(v.longValue())
                : v.isTextual() && v.textValue().strip().matches("-?\\d{1,18}") ? Long.valueOf(v.textValue().strip())
                : null;
        if (n == null) {
            problems.add(field(key) + ": " + describe(v) + " is not an integer");
            return dflt;
        }
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            problems.add(field(key) + ": " + n + " is too large");
            return dflt;
        }
        return n;
    }

    public long size(String key, long dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        OptionalLong n = v.isIntegralNumber() && v.canConvertToLong() ? OptionalLong.of(v.longValue())
                : v.isTextual() ? ByteSizes.parse(v.textValue())
                : OptionalLong.empty();
        if (n.isEmpty()) {
            problems.add(field(key) + ": " + describe(v) + " is not a size; use " + ByteSizes.SYNTAX);
            return dflt;
        }
        return n.getAsLong();
    }

    public Duration duration(String key, Duration dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        Duration d = null;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            d = Duration.ofMillis(v.longValue());
        } else if (v.isTextual()) {
            String t = v.textValue().strip();
            d = t.matches("\\d{1,18}") ? Duration.ofMillis(Long.parseLong(t)) : Durations.parse(t).orElse(null);
        }
        if (d == null) {
            problems.add(field(key) + ": " + describe(v) + " is not a duration; use " + Durations.SYNTAX);
            return dflt;
        }
        return d;
    }

    public double decimal(String key, double dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber()) {
            problems.add(field(key) + ": " + describe(v) + " is not a number");
            return dflt;
        }
        return v.doubleValue();
    }

    /** A value from a fixed set; {@code parse} returns null for anything not in it. */
    public <T> T oneOf(String key, T dflt, String allowed, Function<String, T> parse) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        T parsed = v.isTextual() ? parse.apply(v.textValue()) : null;
        if (parsed == null) {
            problems.add(v.isTextual() ? ConfigText.notOneOf(field(key), v.textValue(), allowed)
                    : field(key) + ": " + describe(v) + " is not one of " + allowed);
            return dflt;
        }
        return parsed;
    }

    /** A list of strings; a single string is not taken for a one-element list, to keep the file explicit. */
    public List<String> stringList(String key, List<String> dflt) {
        JsonNode v = value(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isArray()) {
            problems.add(field(key) + ": expected a list of strings, got " + describe(v));
            return dflt;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            if (item.isTextual()) {
                out.add(item.textValue());
            } else {
                problems.add(field(key) + "[" + i + "]: expected a string, got " + describe(item) + "; quote it");
            }
        }
        return out;
    }

    /**
     * A list of mappings, each walked as its own section named {@code key[i]}; null when absent (keep the
     * default). Call {@link #rejectUnknownKeys()} on each.
     */
    public List<YamlSection> sectionList(String key) {
        JsonNode v = value(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            problems.add(field(key) + ": expected a list of sections, got " + describe(v));
            return null;
        }
        List<YamlSection> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            String name = field(key) + "[" + i + "]";
            if (item.isObject()) {
                out.add(new YamlSection(item, name, problems));
            } else {
                problems.add(name + ": expected a section (a mapping of keys to values), got " + describe(item));
            }
        }
        return out;
    }

    /**
     * Whether {@code key} is set, to anything but null, without checking its value: for a value that must not be
     * repeated in a message, such as a secret given where none is taken.
     */
    public boolean has(String key) {
        return value(key) != null;
    }

    /** Records a problem about {@code key} of this section, named by its full YAML path. */
    public void problem(String key, String message) {
        problems.add(field(key) + ": " + message);
    }

    /** Call after reading every key the section supports. */
    public void rejectUnknownKeys() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                String where = path.isEmpty() ? "known top-level keys" : "known keys in " + path;
                problems.add(field(key) + ": unknown key; " + where + ": " + String.join(", ", known));
            }
        }
    }

    private JsonNode value(String key) {
        known.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private String field(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) {
            return quote(v.textValue());
        }
        if (v.isObject()) {
            return "a mapping";
        }
        if (v.isArray()) {
            return "a list";
        }
        return v.toString();
    }
}
