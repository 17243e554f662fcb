package dev.holdfast.intake.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Keeps holdfast-example.yaml honest: it must load, show the real defaults, and mention every field. */
class ExampleConfigTest {

    private static final Function<String, String> NO_ENV = name -> null;

    private static Path example() throws URISyntaxException {
        URL url = Objects.requireNonNull(ExampleConfigTest.class.getResource("/holdfast-example.yaml"));
        return Path.of(url.toURI());
    }

    @Test
    void exampleLoadsAndStatesTheDefaults() throws Exception {
        assertEquals(IntakeConfig.defaults(NO_ENV), IntakeConfig.load(example(), Overrides.NONE, NO_ENV));
    }

    @Test
    void exampleMentionsEveryField() throws Exception {
        JsonNode tree = new YAMLMapper().readTree(example().toFile());
        assertEquals(fieldsOf(IntakeConfig.class, ""), keysOf(tree, ""));
    }

    private static Set<String> fieldsOf(Class<?> record, String prefix) {
        Set<String> fields = new TreeSet<>();
        for (RecordComponent c : record.getRecordComponents()) {
            if (c.getType().isRecord()) {
                fields.addAll(fieldsOf(c.getType(), prefix + c.getName() + "."));
            } else {
                fields.add(prefix + c.getName());
            }
        }
        return fields;
    }

    private static Set<String> keysOf(JsonNode node, String prefix) {
        Set<String> keys = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            JsonNode value = node.get(key);
            if (value.isObject() && !value.isEmpty()) { // an empty mapping is a value (forwarder.producer: {})
                keys.addAll(keysOf(value, prefix + key + "."));
            } else {
                keys.add(prefix + key);
            }
        }
        return keys;
    }
}
