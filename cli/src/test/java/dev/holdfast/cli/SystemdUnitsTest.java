package dev.holdfast.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service units in {@code packaging/systemd}: systemd's own check, the hardening every unit must keep, the
 * capabilities each may have, and command lines the {@code holdfast} command accepts. Which capabilities the shipper
 * really needs is proven by running it with them ({@code ShipperCapabilitiesIT}).
 */
class SystemdUnitsTest {
    private static final Path DIR = Path.of("..", "packaging", "systemd");

    @TempDir
    Path tmp;

    /** The [Service] and other directives of a unit: key to value, the last occurrence winning as in systemd. */
    static Map<String, String> directives(String unit) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : unit.lines().map(String::strip).toList()) {
            int eq = line.indexOf('=');
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("[") || eq < 0) {
                continue;
            }
            out.put(line.substring(0, eq), line.substring(eq + 1).strip());
        }
        return out;
    }

    /** A capability list directive's names, in order. */
    static List<String> capabilities(String unit, String directive) {
        String value = directives(unit).getOrDefault(directive, "");
        return value.isEmpty() ? List.of() : Arrays.asList(value.split("\\s+"));
    }

    @Test
    void systemdAcceptsBothUnits() throws Exception {
        for (String name : List.of("holdfast-intake.service", "holdfast-shipper.service")) {
            // the units name the release's launcher; the check wants an executable there, so this one stands in
            String unit = Files.readString(DIR.resolve(name)).replace("/opt/holdfast/bin/holdfast",
                    Path.of("..", "holdfast").toAbsolutePath().normalize().toString());
            Path copy = Files.writeString(tmp.resolve(name), unit);
            Process p = new ProcessBuilder("systemd-analyze", "verify", copy.toString()).redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), name + ": " + out);
            assertEquals("", out.strip(), name + ": systemd-analyze has remarks");
        }
    }

    @Test
    void bothUnitsRunAsTheirOwnUserHardenedAndRestartOnFailure() throws Exception {
        for (String name : List.of("holdfast-intake.service", "holdfast-shipper.service")) {
            Map<String, String> d = directives(Files.readString(DIR.resolve(name)));
            assertEquals("yes", d.get("DynamicUser"), name);
            assertTrue(d.getOrDefault("User", "").startsWith("holdfast"), name);
            assertTrue(d.containsKey("StateDirectory"), name + ": its data needs a directory it owns");
            assertEquals("on-failure", d.get("Restart"), name);
            assertEquals("yes", d.get("NoNewPrivileges"), name);
            assertEquals("strict", d.get("ProtectSystem"), name);
            assertTrue(List.of("yes", "read-only").contains(d.get("ProtectHome")), name);
            assertEquals("yes", d.get("PrivateTmp"), name);
            assertTrue(d.get("ExecStart").startsWith("/opt/holdfast/bin/holdfast "), name);
        }
    }

    @Test
    void theIntakeHasNoCapabilityAndTheShipperOnlyWhatItsProbeNeeds() throws Exception {
        String intake = Files.readString(DIR.resolve("holdfast-intake.service"));
        assertEquals(List.of(), capabilities(intake, "CapabilityBoundingSet"));
        assertEquals(List.of(), capabilities(intake, "AmbientCapabilities"));
        assertTrue(directives(intake).containsKey("CapabilityBoundingSet"), "an empty bounding set, said explicitly");
        String shipper = Files.readString(DIR.resolve("holdfast-shipper.service"));
        assertEquals(List.of("CAP_BPF", "CAP_PERFMON"), capabilities(shipper, "CapabilityBoundingSet"));
        assertEquals(capabilities(shipper, "CapabilityBoundingSet"), capabilities(shipper, "AmbientCapabilities"));
    }

    @Test
    void theirCommandLinesAreOnesHoldfastAccepts() throws Exception {
        for (String name : List.of("holdfast-intake.service", "holdfast-shipper.service")) {
            String exec = directives(Files.readString(DIR.resolve(name))).get("ExecStart")
                    .replace("${STATE_DIRECTORY}", tmp.toString());
            String[] args = exec.substring(exec.indexOf(' ') + 1).split("\\s+");
            // parsing only: every option exists and takes what it is given
            HoldfastCommand.commandLine(args).parseArgs(args);
        }
    }
}
