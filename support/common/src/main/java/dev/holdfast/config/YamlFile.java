package dev.holdfast.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a config file as a YAML tree, to be walked with {@link YamlSection}. The tree is walked by hand rather
 * than data-bound: binding stops at the first bad value and reports Java types, while an operator wants every
 * problem, named by YAML path.
 */
public final class YamlFile {

    /** The file cannot be read or is not YAML at all; the message is one line naming the file. */
    public static final class UnreadableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnreadableException(String oneLine) {
            super(oneLine);
        }
    }

    // Duplicate keys are almost always a copy-paste mistake where the later value silently wins.
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']*)'");

    private YamlFile() {}

    /**
     * The document's tree, with {@code ${NAME}} and {@code ${NAME:-default}} in its values taken from the process's
     * environment ({@link EnvSubstitution}); null or a null/missing node for an empty file.
     *
     * @param problems where a reference that cannot be resolved is reported, by YAML path (the value is left as written)
     */
    public static JsonNode read(Path file, List<String> problems) {
        return read(file, System::getenv, problems);
    }

    /** As {@link #read(Path, List)}, from {@code env} rather than the process's environment. */
    public static JsonNode read(Path file, Function<String, String> env, List<String> problems) {
        JsonNode root = parse(file);
        return root == null ? null : EnvSubstitution.apply(root, env, problems);
    }

    private static JsonNode parse(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return YAML.readTree(in);
        } catch (NoSuchFileException e) {
            throw new UnreadableException("config file " + file + " does not exist");
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new UnreadableException("config file " + file + ": invalid YAML" + where + ": " + what(e));
        } catch (IOException e) {
            throw new UnreadableException("config file " + file + " cannot be read: " + e);
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
}
