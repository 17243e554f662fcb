package dev.holdfast.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code holdfast validate}: the real command line, in-process, on files an operator would write. */
class ValidateCommandTest {
    @TempDir
    Path tmp;

    private Path file(String yaml) throws Exception {
        Path f = tmp.resolve("config.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void theShippedExamplesAreValidAndTellTheirKindByTheirKeys() {
        CliErrorsTest.Run intake = CliErrorsTest.run("validate", "--config",
                "../intake-server/src/main/resources/holdfast-example.yaml");
        assertEquals(0, intake.exitCode(), intake.toString());
        assertTrue(intake.stdout().contains("a valid intake config"), intake.stdout());
        CliErrorsTest.Run shipper = CliErrorsTest.run("validate", "--config",
                "../ebpf-shipper/src/main/resources/holdfast-shipper-example.yaml");
        assertEquals(0, shipper.exitCode(), shipper.toString());
        assertTrue(shipper.stdout().contains("a valid shipper config"), shipper.stdout());
    }

    @Test
    void everyProblemIsNamedOnALineOfItsOwnAndNothingIsCreated() throws Exception {
        Path data = tmp.resolve("not-made");
        Path f = file("""
                dataDir: %s
                durability: sometimes
                grpc: {port: 70000}
                wal:
                  maxBytes: ${HOLDFAST_TEST_UNSET_WAL_BYTES}
                forwarder: {enabled: false}
                colour: blue
                """.formatted(data));
        CliErrorsTest.Run r = CliErrorsTest.run("validate", "--config", f.toString());
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        List<String> lines = r.reportLines();
        assertEquals(4, lines.size(), r.report());
        for (String expected : List.of("durability", "grpc.port", "HOLDFAST_TEST_UNSET_WAL_BYTES", "colour")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("holdfast validate: invalid configuration: ")
                    && l.contains(expected)), expected + " not named in " + lines);
        }
        assertFalse(r.everythingOnStderr().contains("\tat "), "no stack trace: " + r);
        assertFalse(Files.exists(data), "validate made the data directory");
    }

    @Test
    void environmentReferencesAreResolvedAsAtStart() throws Exception {
        Path f = file("""
                agentId: ${HOLDFAST_TEST_UNSET_AGENT:-edge-7}
                intake:
                  endpoints: ["${HOLDFAST_TEST_UNSET_INTAKE:-intake-1.example.com:4317}"]
                batch:
                  maxEvents: ${HOLDFAST_TEST_UNSET_EVENTS:-0}
                """);
        CliErrorsTest.Run r = CliErrorsTest.run("validate", "--config", f.toString());
        // the default 0 is substituted as a number and judged as one
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertEquals(1, r.reportLines().size(), r.report());
        assertTrue(r.report().contains("batch.maxEvents"), r.report());
    }

    @Test
    void aFileOfNeitherKindAsksWhichItIs() throws Exception {
        Path f = file("""
                nodeId: a
                agentId: b
                """);
        CliErrorsTest.Run both = CliErrorsTest.run("validate", "--config", f.toString());
        assertEquals(ExitCodes.USAGE, both.exitCode(), both.toString());
        assertTrue(both.report().contains("it has keys of both") && both.report().contains("--kind"), both.report());
        CliErrorsTest.Run told = CliErrorsTest.run("validate", "--kind", "intake", "--config", f.toString());
        assertEquals(ExitCodes.USAGE, told.exitCode(), told.toString());
        assertTrue(told.report().contains("agentId"), "as an intake config, agentId is an unknown key: " + told.report());
    }

    @Test
    void aMissingOrBrokenFileIsOneLine() throws Exception {
        CliErrorsTest.Run missing = CliErrorsTest.run("validate", "--config", tmp.resolve("nope.yaml").toString());
        assertEquals(ExitCodes.USAGE, missing.exitCode(), missing.toString());
        assertEquals(1, missing.reportLines().size(), missing.report());
        assertTrue(missing.report().contains("does not exist"), missing.report());
        CliErrorsTest.Run broken = CliErrorsTest.run("validate", "--config", file("a: [1, 2\n").toString());
        assertEquals(1, broken.reportLines().size(), broken.report());
        assertTrue(broken.report().contains("invalid YAML at line"), broken.report());
        assertFalse(broken.everythingOnStderr().contains("\tat "), broken.toString());
    }
}
