package dev.holdfast.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code ${NAME}} and {@code ${NAME:-default}} in a config file's values, from the environment: how a container or
 * a service unit hands a file its addresses and secrets' paths without a copy of the file per node.
 *
 * <p>Substituted in the parsed tree, value by value, never in the file's text: a variable's value cannot add keys,
 * end a line or open a list, whatever it holds. A value that is one reference and nothing else takes the type its
 * text has as a YAML scalar ({@code port: ${PORT}} with PORT=8080 is the number 8080); a reference inside a longer
 * text stays text. {@code $$} is a literal {@code $}. Keys are never substituted. A reference to a variable that is
 * not set and has no default is a problem named by its YAML path, and every such problem is reported, not only the
 * first. As in the shell, {@code :-} takes the default when the variable is unset or empty; a plain reference to an
 * empty variable is the empty text.
 */
final class EnvSubstitution {
    private static final ObjectMapper SCALARS = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper();
    /** A value whose reference could not be resolved (reported): the key is dropped, an item kept as written. */
    private static final JsonNode UNRESOLVED = com.fasterxml.jackson.databind.node.MissingNode.getInstance();

    private final Function<String, String> env;
    private final List<String> problems;

    private EnvSubstitution(Function<String, String> env, List<String> problems) {
        this.env = env;
        this.problems = problems;
    }

    /** Substitutes in place under {@code root}; returns the root (a new node when the root itself is a reference). */
    static JsonNode apply(JsonNode root, Function<String, String> env, List<String> problems) {
        return new EnvSubstitution(env, problems).walk(root, "");
    }

    private JsonNode walk(JsonNode node, String path) {
        if (node instanceof ObjectNode object) {
            List<String> keys = new ArrayList<>();
            object.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                JsonNode value = walk(object.get(key), path.isEmpty() ? key : path + "." + key);
                if (value == UNRESOLVED) {
                    object.remove(key); // reported once, as what it is; its default stands in for the rest of the checks
                } else {
                    object.set(key, value);
                }
            }
            return object;
        }
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode value = walk(array.get(i), path + "[" + i + "]");
                array.set(i, value == UNRESOLVED ? array.get(i) : value);
            }
            return array;
        }
        if (node instanceof TextNode text && text.textValue().indexOf('$') >= 0) {
            JsonNode value = substitute(text.textValue(), path.isEmpty() ? "(the document)" : path);
            return value == UNRESOLVED && path.isEmpty() ? text : value;
        }
        return node;
    }

    private JsonNode substitute(String value, String path) {
        StringBuilder out = new StringBuilder();
        int references = 0;
        boolean onlyReference = true;
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c != '$') {
                out.append(c);
                onlyReference = false;
                i++;
                continue;
            }
            if (value.startsWith("$$", i)) {
                out.append('$');
                onlyReference = false;
                i += 2;
                continue;
            }
            if (!value.startsWith("${", i)) {
                out.append(c);
                onlyReference = false;
                i++;
                continue;
            }
            int end = value.indexOf('}', i + 2);
            if (end < 0) {
                problems.add(path + ": " + ConfigText.quote(value) + " has a ${ without its closing }; write $$ for a"
                        + " literal $");
                return UNRESOLVED;
            }
            String inside = value.substring(i + 2, end);
            int dash = inside.indexOf(":-");
            String name = dash < 0 ? inside : inside.substring(0, dash);
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                problems.add(path + ": ${" + inside + "} does not name an environment variable (letters, digits and _,"
                        + " not starting with a digit; ${NAME:-default} for a default)");
                return UNRESOLVED;
            }
            String resolved = env.apply(name);
            if ((resolved == null || resolved.isEmpty()) && dash >= 0) {
                resolved = inside.substring(dash + 2);
            }
            if (resolved == null) {
                problems.add(path + ": environment variable " + name + " is not set (and ${" + name
                        + "} has no default; write ${" + name + ":-default} for one)");
                return UNRESOLVED;
            }
            out.append(resolved);
            references++;
            i = end + 1;
        }
        if (references == 1 && onlyReference) {
            return scalar(out.toString());
        }
        return TextNode.valueOf(out.toString());
    }

    /** The text as YAML would type it as a scalar: number, boolean, null or text; never a map or a list. */
    private static JsonNode scalar(String text) {
        try {
            JsonNode typed = SCALARS.readTree(text);
            if (typed != null && typed.isValueNode() && !text.contains("\n")) {
                return typed;
            }
        } catch (java.io.IOException e) {
            // not a scalar YAML can read (e.g. "a: b: c"): it stays the text it is
        }
        return TextNode.valueOf(text);
    }
}
