package dev.holdfast.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlSectionTest {
    final List<String> problems = new ArrayList<>();

    private YamlSection root(String yaml) throws Exception {
        return YamlSection.root(new YAMLMapper().readTree(yaml), problems);
    }

    @Test
    void stringListsNameTheBadItem() throws Exception {
        YamlSection w = root("w: {a: [x, 7, y]}").section("w");
        assertEquals(List.of("x", "y"), w.stringList("a", List.of()));
        assertEquals(List.of("d"), w.stringList("absent", List.of("d")));
        assertEquals(List.of("w.a[1]: expected a string, got 7; quote it"), problems);
    }

    @Test
    void sectionListsAreWalkedItemByItemWithUnknownKeys() throws Exception {
        YamlSection top = root("rules: [{prefix: /a/, bogus: 1}, 3]");
        List<YamlSection> rules = top.sectionList("rules");
        assertEquals(1, rules.size());
        assertEquals("/a/", rules.get(0).string("prefix", null));
        rules.get(0).rejectUnknownKeys();
        top.rejectUnknownKeys();
        assertNull(top.sectionList("absent"));
        assertEquals(List.of("rules[1]: expected a section (a mapping of keys to values), got 3",
                "rules[0].bogus: unknown key; known keys in rules[0]: prefix"), problems);
    }

    @Test
    void unreadableFilesSayWhyInOneLine(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("dup.yaml"), "a: 1\na: 2\n");
        assertEquals("config file " + f + ": invalid YAML at line 2, column 4: key 'a' appears twice in the same section",
                assertThrows(YamlFile.UnreadableException.class, () -> YamlFile.read(f, new java.util.ArrayList<>())).getMessage());
        assertEquals("config file " + dir.resolve("nope.yaml") + " does not exist",
                assertThrows(YamlFile.UnreadableException.class, () -> YamlFile.read(dir.resolve("nope.yaml"), new java.util.ArrayList<>())).getMessage());
    }
}
