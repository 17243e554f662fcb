package dev.holdfast.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.holdfast.intake.config.IntakeConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code packaging/Containerfile}, read instruction by instruction (no container runtime here to build it) and checked
 * against what it is built from and what runs it: the tarball this build made (its name, its one top directory, the
 * launcher inside it), the intake's default ports, the systemd units' install path and the Kubernetes manifests, which
 * pass their arguments to its entry point and name its non-root user.
 */
class ContainerfileIT {
    private static final Path TARBALL = Path.of(System.getProperty("holdfast.release.tarball"));
    private static final String VERSION = System.getProperty("holdfast.version");
    private static final String INSTALL = "/opt/holdfast";

    /** Instruction (upper case) to its arguments, one entry per occurrence, continuation lines joined. */
    static List<Map.Entry<String, String>> instructions;
    /** The tarball's entries, as `tar -tzvf` lists them. */
    static List<String> listing;

    @BeforeAll
    static void read() throws Exception {
        instructions = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String raw : Files.readAllLines(Path.of("Containerfile"))) {
            if (raw.strip().startsWith("#") || raw.isBlank()) {
                continue;
            }
            if (raw.endsWith("\\")) {
                line.append(raw, 0, raw.length() - 1).append(' ');
                continue;
            }
            line.append(raw);
            String text = line.toString().strip();
            int space = text.indexOf(' ');
            instructions.add(Map.entry(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
            line.setLength(0);
        }
        Process tar = new ProcessBuilder("tar", "-tzvf", TARBALL.toString()).redirectErrorStream(true).start();
        listing = new String(tar.getInputStream().readAllBytes()).lines().toList();
        assertEquals(0, tar.waitFor(), String.join("\n", listing));
    }

    private static List<String> all(String instruction) {
        return instructions.stream().filter(e -> e.getKey().equals(instruction)).map(Map.Entry::getValue).toList();
    }

    private static String one(String instruction) {
        List<String> values = all(instruction);
        assertEquals(1, values.size(), instruction + ": " + values);
        return values.get(0);
    }

    /** An exec-form (JSON array) instruction's words. */
    private static List<String> execForm(String instruction) throws Exception {
        JsonNode array = new YAMLMapper().readTree(one(instruction));
        assertTrue(array.isArray(), instruction + " in exec form, so that signals reach the JVM: " + one(instruction));
        List<String> words = new ArrayList<>();
        array.forEach(w -> words.add(w.asText()));
        return words;
    }

    @Test
    void itUnpacksTheTarballThisBuildMakesIntoTheUnitsInstallPath() throws Exception {
        assertEquals("debian:bookworm-slim", one("FROM"));
        assertEquals("VERSION", one("ARG"));
        String name = TARBALL.getFileName().toString();
        String copy = one("COPY").replace("${VERSION}", VERSION);
        assertEquals(List.of(name, name + ".sha256", "/tmp/"), List.of(copy.split("\\s+")),
                "copies the tarball and its checksum, by the name the build gives them");
        String run = String.join(" && ", all("RUN")).replace("${VERSION}", VERSION);
        assertTrue(run.contains("sha256sum -c " + name + ".sha256"), "checks the tarball: " + run);
        assertTrue(run.contains("tar -xzf " + name + " -C " + INSTALL + " --strip-components=1"), run);

        // --strip-components=1 drops exactly the tarball's one top directory
        Set<String> tops = new TreeSet<>();
        String launcher = null;
        for (String entry : listing) {
            String named = entry.contains(" -> ") ? entry.substring(0, entry.indexOf(" -> ")) : entry; // a symlink
            String path = named.substring(named.lastIndexOf(' ') + 1);
            tops.add(path.substring(0, path.indexOf('/') < 0 ? path.length() : path.indexOf('/')));
            if (path.endsWith("/bin/holdfast")) {
                launcher = entry;
            }
        }
        assertEquals(Set.of("holdfast-" + VERSION), tops);
        assertNotNull(launcher, "the tarball has no bin/holdfast");
        assertTrue(launcher.startsWith("-rwxr-xr-x"), launcher);

        List<String> entrypoint = execForm("ENTRYPOINT");
        assertEquals(List.of(INSTALL + "/bin/holdfast"), entrypoint);
        for (String unit : List.of("holdfast-intake.service", "holdfast-shipper.service")) {
            String exec = Files.readAllLines(Path.of("systemd", unit)).stream().filter(l -> l.startsWith("ExecStart="))
                    .findFirst().orElseThrow();
            assertTrue(exec.startsWith("ExecStart=" + entrypoint.get(0) + " "), unit + ": " + exec);
        }
    }

    @Test
    void itExposesTheIntakesDefaultPorts() {
        IntakeConfig defaults = IntakeConfig.defaults();
        Set<Integer> exposed = new TreeSet<>();
        for (String ports : all("EXPOSE")) {
            for (String p : ports.split("\\s+")) {
                exposed.add(Integer.parseInt(p.replace("/tcp", "")));
            }
        }
        assertEquals(new TreeSet<>(List.of(defaults.grpc().port(), defaults.http().port(), defaults.otlp().httpPort())),
                exposed);
    }

    @Test
    void theKubernetesWorkloadsRunItsEntryPointAndTheIntakeItsUser() throws Exception {
        String user = one("USER");
        int uid = Integer.parseInt(user.split(":")[0]);
        assertTrue(uid != 0, "the intake does not run as root");

        Map<String, JsonNode> workloads = new LinkedHashMap<>();
        for (String file : List.of("intake.yaml", "shipper.yaml")) {
            try (var docs = new YAMLMapper().readerFor(JsonNode.class)
                    .<JsonNode>readValues(Files.readString(Path.of("kubernetes", file)))) {
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    if (doc != null && doc.has("kind") && doc.at("/spec/template/spec").isObject()) {
                        workloads.put(doc.get("kind").asText(), doc.at("/spec/template/spec"));
                    }
                }
            }
        }
        assertEquals(Set.of("StatefulSet", "DaemonSet"), workloads.keySet());
        for (JsonNode pod : workloads.values()) {
            JsonNode container = pod.at("/containers/0");
            assertEquals("holdfast:" + VERSION, container.get("image").asText());
            assertFalse(container.has("command"), "the manifests give arguments to the image's entry point");
        }
        JsonNode intake = workloads.get("StatefulSet");
        assertEquals(uid, intake.at("/securityContext/runAsUser").asInt(), "the image's user is the pod's");
        // the image's data directory is where the pod mounts its WAL volume and points --data
        List<String> args = new ArrayList<>();
        intake.at("/containers/0/args").forEach(a -> args.add(a.asText()));
        String data = args.get(args.indexOf("--data") + 1);
        assertEquals(data, one("WORKDIR"));
        assertEquals(data, one("VOLUME"));
    }
}
