package dev.holdfast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.shipper.config.ShipperConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The manifests in {@code packaging/kubernetes}, read as Kubernetes would and checked against what Holdfast really
 * does: their embedded configs load and validate with the pod's environment, the containers expose the ports those
 * configs listen on, probes ask the paths the processes serve on those ports, Services and the disruption budget
 * select the pods, the WAL and the spool are on the volumes, the image is this build's version, and the shipper gets
 * the capabilities its systemd unit grants and not one more.
 */
class KubernetesManifestsTest {
    private static final Path DIR = Path.of("..", "packaging", "kubernetes");
    private static final ObjectMapper YAML = new YAMLMapper();

    @TempDir
    Path tmp;

    private static Map<String, JsonNode> byKindAndName(Path file) throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file))) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                for (String required : List.of("apiVersion", "kind")) {
                    assertTrue(doc.hasNonNull(required), file + ": a document without " + required);
                }
                assertEquals("holdfast", doc.at("/metadata/namespace").asText(), file + ": namespace");
                out.put(doc.get("kind").asText() + "/" + doc.at("/metadata/name").asText(), doc);
            }
        }
        return out;
    }

    /** The config a ConfigMap carries, written to a file. */
    private Path config(JsonNode configMap, String key) throws Exception {
        String text = configMap.at("/data/" + key).asText();
        assertTrue(!text.isBlank(), "ConfigMap has no " + key);
        return Files.writeString(tmp.resolve(key), text);
    }

    private static Map<String, Integer> containerPorts(JsonNode container) {
        Map<String, Integer> ports = new HashMap<>();
        for (JsonNode p : container.get("ports")) {
            ports.put(p.get("name").asText(), p.get("containerPort").asInt());
        }
        return ports;
    }

    private static String version() throws Exception {
        String pom = Files.readString(Path.of("..", "pom.xml"));
        int at = pom.indexOf("<version>", pom.indexOf("<artifactId>holdfast-parent</artifactId>"));
        return pom.substring(at + 9, pom.indexOf("</version>", at));
    }

    /** A probe's path, and the port number its named port stands for. */
    private static void assertProbe(JsonNode container, String probe, String path, int port) {
        JsonNode get = container.at("/" + probe + "/httpGet");
        assertEquals(path, get.get("path").asText(), probe);
        assertEquals(port, containerPorts(container).get(get.get("port").asText()), probe + " port");
    }

    /** A file's documents, its workload (StatefulSet or DaemonSet), that workload's pod spec and first container. */
    private record Workload(Map<String, JsonNode> docs, JsonNode set, JsonNode pod, JsonNode container) {
        static Workload of(String file, String kindAndName) throws Exception {
            Map<String, JsonNode> docs = byKindAndName(DIR.resolve(file));
            JsonNode set = docs.get(kindAndName);
            assertNotNull(set, file + " has no " + kindAndName + ": " + docs.keySet());
            JsonNode pod = set.at("/spec/template/spec");
            return new Workload(docs, set, pod, pod.at("/containers/0"));
        }
    }

    @Test
    void theIntakeStatefulSetServesTheConfigItCarries() throws Exception {
        Workload w = Workload.of("intake.yaml", "StatefulSet/holdfast-intake");
        List<String> args = new ArrayList<>();
        w.container().get("args").forEach(a -> args.add(a.asText()));
        assertEquals("intake", args.get(0));

        // the embedded config is valid with what the pod's environment gives it
        IntakeConfig config = IntakeConfig.load(config(w.docs().get("ConfigMap/holdfast-intake-config"), "intake.yaml"),
                dev.holdfast.intake.config.Overrides.NONE, Map.of("POD_NAME", "holdfast-intake-0")::get);
        assertEquals("holdfast-intake-0", config.nodeId());
        assertTrue(config.tls().enabled(), "listening beyond loopback takes TLS");
        assertEquals(IntakeConfig.Auth.Require.CERTIFICATE, config.auth().require());

        Map<String, Integer> ports = containerPorts(w.container());
        assertEquals(config.grpc().port(), ports.get("grpc"));
        assertEquals(config.http().port(), ports.get("http"));
        assertEquals(config.otlp().httpPort(), ports.get("otlp-http"));
        assertProbe(w.container(), "livenessProbe", "/healthz", config.http().port());
        assertProbe(w.container(), "readinessProbe", "/readyz", config.http().port());
        assertProbe(w.container(), "startupProbe", "/healthz", config.http().port());
        assertEquals("HTTPS", w.container().at("/readinessProbe/httpGet/scheme").asText(), "tls.http is on");

        // the WAL is on the claim, where --data puts it
        String data = args.get(args.indexOf("--data") + 1);
        assertTrue(w.container().get("volumeMounts").findValuesAsText("mountPath").contains(data));
        assertEquals("wal", w.set().at("/spec/volumeClaimTemplates/0/metadata/name").asText());
        assertTrue(w.container().get("volumeMounts").toString().contains("\"name\":\"wal\""));
        assertEquals("holdfast:" + version(), w.container().get("image").asText());

        // Services, the headless one named by the set, and the budget select these pods
        JsonNode labels = w.set().at("/spec/template/metadata/labels");
        assertEquals(w.set().at("/spec/selector/matchLabels"), labels);
        assertEquals(labels, w.docs().get("Service/holdfast-intake").at("/spec/selector"));
        assertEquals(labels, w.docs().get("Service/" + w.set().at("/spec/serviceName").asText()).at("/spec/selector"));
        assertEquals(labels, w.docs().get("PodDisruptionBudget/holdfast-intake").at("/spec/selector/matchLabels"));
        for (String service : List.of("Service/holdfast-intake", "Service/holdfast-intake-pods")) {
            for (JsonNode p : w.docs().get(service).at("/spec/ports")) {
                assertTrue(ports.containsKey(p.get("targetPort").asText()), service + " targets " + p);
            }
        }
        assertEquals("[\"ALL\"]", w.container().at("/securityContext/capabilities/drop").toString());
        assertTrue(w.pod().at("/securityContext/runAsNonRoot").asBoolean());
    }

    @Test
    void theShipperDaemonSetHasItsUnitsCapabilitiesAndServesTheConfigItCarries() throws Exception {
        Workload w = Workload.of("shipper.yaml", "DaemonSet/holdfast-shipper");

        ShipperConfig config = ShipperConfig.load(config(w.docs().get("ConfigMap/holdfast-shipper-config"), "shipper.yaml"),
                dev.holdfast.shipper.config.Overrides.NONE, Map.of("NODE_NAME", "node-a")::get);
        assertEquals("node-a", config.agentId());
        assertEquals(config.metrics().port(), containerPorts(w.container()).get("metrics"));
        assertProbe(w.container(), "livenessProbe", "/healthz", config.metrics().port());
        assertProbe(w.container(), "readinessProbe", "/readyz", config.metrics().port());

        // the capabilities the systemd unit grants (ShipperCapabilitiesIT proves them enough and each needed)
        List<String> unit = SystemdUnitsTest.capabilities(
                Files.readString(Path.of("..", "packaging", "systemd", "holdfast-shipper.service")), "AmbientCapabilities");
        List<String> added = new ArrayList<>();
        w.container().at("/securityContext/capabilities/add").forEach(c -> added.add("CAP_" + c.asText()));
        assertEquals(unit, added);
        assertEquals("[\"ALL\"]", w.container().at("/securityContext/capabilities/drop").toString());
        assertTrue(w.pod().get("hostPID").asBoolean());

        // the spool on the node's disk, the kernel's BTF read-only
        Map<String, String> hostPaths = new HashMap<>();
        for (JsonNode v : w.pod().get("volumes")) {
            if (v.has("hostPath")) {
                hostPaths.put(v.get("name").asText(), v.at("/hostPath/path").asText());
            }
        }
        assertEquals("/sys/kernel/btf", hostPaths.get("btf"));
        boolean spoolOnHost = false;
        for (JsonNode m : w.container().get("volumeMounts")) {
            if (hostPaths.containsKey(m.get("name").asText())
                    && config.spool().dir().startsWith(Path.of(m.get("mountPath").asText()))) {
                spoolOnHost = true;
            }
        }
        assertTrue(spoolOnHost, "the spool " + config.spool().dir() + " is not on a hostPath volume");
        assertTrue(w.container().at("/resources/limits/memory").isTextual(), "a memory limit");
        assertEquals("holdfast:" + version(), w.container().get("image").asText());
        assertEquals(w.set().at("/spec/selector/matchLabels"), w.set().at("/spec/template/metadata/labels"));
    }
}
