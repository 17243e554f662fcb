package dev.holdfast.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvSubstitutionTest {
    @TempDir
    Path dir;

    private final List<String> problems = new ArrayList<>();

    private JsonNode read(String yaml, Map<String, String> env) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, yaml);
        return YamlFile.read(f, env::get, problems);
    }

    @Test
    void aWholeValueReferenceTakesTheTypeOfItsText() throws Exception {
        JsonNode n = read("""
                grpc:
                  port: ${PORT}
                  tls: "${TLS}"
                nodeId: ${NODE}
                """, Map.of("PORT", "24317", "TLS", "true", "NODE", "intake-3"));
        assertEquals(List.of(), problems);
        assertTrue(n.at("/grpc/port").isInt());
        assertEquals(24317, n.at("/grpc/port").intValue());
        assertTrue(n.at("/grpc/tls").isBoolean(), "quoted too: inside {} or [] a reference must be quoted");
        assertEquals("intake-3", n.at("/nodeId").textValue());
    }

    @Test
    void aReferenceInsideATextStaysText() throws Exception {
        JsonNode n = read("""
                dataDir: /var/lib/${APP}/data
                bootstrap: "${HOST}:${PORT}"
                topics: ["events-${ENV}", "$$HOME", "cost: 5 $$"]
                """, Map.of("APP", "holdfast", "HOST", "kafka-0", "PORT", "9092", "ENV", "prod"));
        assertEquals(List.of(), problems);
        assertEquals("/var/lib/holdfast/data", n.at("/dataDir").textValue());
        assertEquals("kafka-0:9092", n.at("/bootstrap").textValue());
        assertEquals("events-prod", n.at("/topics/0").textValue());
        assertEquals("$HOME", n.at("/topics/1").textValue(), "$$ is a literal $");
        assertEquals("cost: 5 $", n.at("/topics/2").textValue());
    }

    @Test
    void defaultsApplyWhenUnsetOrEmptyAsInTheShell() throws Exception {
        JsonNode n = read("""
                a: ${UNSET:-8080}
                b: ${EMPTY:-fallback}
                c: ${EMPTY}
                d: ${SET:-unused}
                e: ${UNSET:-}
                """, Map.of("EMPTY", "", "SET", "given"));
        assertEquals(List.of(), problems);
        assertEquals(8080, n.at("/a").intValue());
        assertEquals("fallback", n.at("/b").textValue());
        assertEquals("", n.at("/c").textValue());
        assertEquals("given", n.at("/d").textValue());
        assertEquals("", n.at("/e").textValue());
    }

    @Test
    void everyUnsetVariableIsNamedByItsYamlPathAndTheKeyKeepsItsDefault() throws Exception {
        JsonNode n = read("""
                grpc:
                  port: ${GRPC_PORT}
                tls:
                  certFile: ${CERT_DIR}/tls.crt
                limits: ["${A}", ok]
                """, Map.of());
        assertEquals(List.of(
                "grpc.port: environment variable GRPC_PORT is not set (and ${GRPC_PORT} has no default; write"
                        + " ${GRPC_PORT:-default} for one)",
                "tls.certFile: environment variable CERT_DIR is not set (and ${CERT_DIR} has no default; write"
                        + " ${CERT_DIR:-default} for one)",
                "limits[0]: environment variable A is not set (and ${A} has no default; write ${A:-default} for one)"),
                problems);
        assertFalse(n.at("/grpc").has("port"), "the key is dropped, so its default stands in and is not reported twice");
    }

    @Test
    void malformedReferencesAreProblemsNotGuesses() throws Exception {
        read("""
                a: ${UNCLOSED
                b: ${1BAD}
                c: ${}
                """, Map.of());
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("a: \"${UNCLOSED\" has a ${ without its closing }"), problems.get(0));
        assertTrue(problems.get(1).startsWith("b: ${1BAD} does not name an environment variable"), problems.get(1));
        assertTrue(problems.get(2).startsWith("c: ${} does not name"), problems.get(2));
    }

    @Test
    void aValueCannotChangeTheDocumentsShape() throws Exception {
        // what a hostile or careless environment could try: new keys, a list, another document, an anchor
        JsonNode n = read("""
                nodeId: ${EVIL}
                other: ${LIST}
                more: ${DOC}
                last: x
                """, Map.of("EVIL", "a\nadmin: true", "LIST", "[1, 2]", "DOC", "b: c\n---\nd: e"));
        assertEquals(List.of(), problems);
        assertEquals("a\nadmin: true", n.at("/nodeId").textValue());
        assertFalse(n.has("admin"));
        assertTrue(n.at("/other").isTextual(), "a flow list in a variable stays text");
        assertEquals("b: c\n---\nd: e", n.at("/more").textValue());
        assertEquals(4, n.size());
    }

    @Test
    void keysAndCommentsAreLeftAlone() throws Exception {
        JsonNode n = read("""
                # ${NOT_A_PROBLEM} in a comment
                ${KEY}: 1
                """, Map.of());
        assertEquals(List.of(), problems);
        assertEquals(1, n.at("/${KEY}").intValue());
    }
}
