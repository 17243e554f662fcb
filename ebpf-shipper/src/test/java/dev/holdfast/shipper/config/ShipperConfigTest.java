package dev.holdfast.shipper.config;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.client.Endpoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.ebpf.ProbeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShipperConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("shipper.yaml"), yaml);
    }

    private List<String> problems(String yaml) throws IOException {
        Path f = write(yaml);
        return assertThrows(InvalidConfigException.class, () -> ShipperConfig.load(f)).problems();
    }

    @Test
    void exampleFileLoadsWithEveryFieldSet() throws Exception {
        Path f = dir.resolve("example.yaml");
        try (InputStream in = getClass().getResourceAsStream("/holdfast-shipper-example.yaml")) {
            Files.copy(in, f);
        }
        ShipperConfig c = ShipperConfig.load(f);
        assertEquals("web-01", c.agentId());
        assertEquals(List.of(new Endpoints.Target("intake-1.example.com", 4317), new Endpoints.Target("10.0.0.5", 4317)),
                c.intake().endpoints());
        assertEquals(Duration.ofSeconds(30), c.intake().dnsRefresh());
        assertEquals(Duration.ofMillis(200), c.intake().backoffBase());
        assertEquals(32, c.intake().window());
        assertEquals(new ShipperConfig.Batch(1000, 256 << 10, Duration.ofMillis(200)), c.batch());
        assertEquals(new ShipperConfig.Spool(Path.of("./data/spool"), 256L << 20, 64L << 20), c.spool());
        assertEquals(SourceKind.EBPF, c.source());
        assertEquals(List.of("/etc/", "/var/www/"), c.watch().include());
        assertEquals(List.of(".swp", ".tmp"), c.watch().excludeNames());
        assertEquals(Priority.CRITICAL, c.priority().priorityOf("/etc/passwd"));
        assertEquals(Priority.BULK, c.priority().priorityOf("/var/www/cache/x"));
        assertEquals(Priority.NORMAL, c.priority().priorityOf("/var/www/index.html"));
        assertEquals(new ShipperConfig.Metrics("127.0.0.1", 9464), c.metrics());

        ProbeConfig probe = c.toProbeConfig();
        assertEquals(8 << 20, probe.ringBufferBytes());
        assertEquals(Set.of("/etc/", "/var/www/"), probe.filters().includePrefixes());
        assertEquals(Set.of("/proc/", "/sys/", "/dev/"), probe.filters().excludePrefixes());
        assertTrue(probe.excludeSelf());
        assertFalse(probe.emitReads());
    }

    @Test
    void omittedFieldsKeepTheirDefaultsAndPrefixesGetATrailingSlash() throws Exception {
        ShipperConfig c = ShipperConfig.load(write("""
                intake: {endpoints: ["[fd00::5]:4317"]}
                watch: {include: [/srv/data]}
                source: {kind: auto}
                """));
        assertEquals(new Endpoints.Target("fd00::5", 4317), c.intake().endpoints().get(0));
        assertEquals(List.of("/srv/data/"), c.watch().include());
        assertEquals(List.of("/proc/", "/sys/", "/dev/"), c.watch().exclude());
        assertEquals(SourceKind.AUTO, c.source());
        ShipperConfig d = ShipperConfig.defaults(c.intake().endpoints());
        assertEquals(d.agentId(), c.agentId(), "host name");
        assertEquals(d.intake(), c.intake());
        assertEquals(d.batch(), c.batch());
        assertEquals(d.spool(), c.spool());
        assertEquals(d.priority(), c.priority());
        assertEquals(d.metrics(), c.metrics());
        assertEquals("127.0.0.1", c.metrics().host(), "the endpoint asks for no credentials: loopback unless set");
    }

    @Test
    void theMetricsEndpointListensWhereItIsToldAndThePortFlagKeepsTheHost() throws Exception {
        ShipperConfig c = ShipperConfig.load(write("""
                intake: {endpoints: [a:1]}
                metrics: {host: 0.0.0.0, port: 9100}
                """));
        assertEquals(new ShipperConfig.Metrics("0.0.0.0", 9100), c.metrics());
        Overrides portOnly = new Overrides(null, null, null, null, null, 0, null);
        assertEquals(new ShipperConfig.Metrics("0.0.0.0", 0), portOnly.metrics(c.metrics()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = "=>", quoteCharacter = '`', textBlock = """
            `intake: {endpoints: [a:1]}
            batch: {maxEvnts: 5}`                          => batch.maxEvnts: unknown key; known keys in batch: maxEvents, maxBytes, maxDelay
            `intake: {endpoints: [a:1]}
            colour: blue`                                  => colour: unknown key; known top-level keys: agentId, intake, batch, spool, source, watch, priority, metrics, log
            `intake: {endpoints: [a:1]}
            batch: {maxBytes: 12 parsecs}`                 => batch.maxBytes: "12 parsecs" is not a size; use a number of bytes or a number with unit B|KB|MB|GB|TB|KiB|MiB|GiB|TiB, e.g. "64MiB"
            `intake: {endpoints: [a:1]}
            batch: {maxBytes: 4MiB}`                       => batch.maxBytes: 4MiB must be at least 1KiB and below 4MiB (the intake's default limits.maxBatchBytes)
            `intake: {endpoints: [a:1]}
            intake: {endpoints: [b:1]}`                    => invalid YAML at line 2, column 9: key 'intake' appears twice in the same section
            `intake: {endpoints: [a:1], dnsRefresh: soon}` => intake.dnsRefresh: "soon" is not a duration; use milliseconds or a number with unit ns|us|ms|s|m|h, e.g. "2ms" or "1s"
            `intake: {endpoints: [a:1]}
            watch: {include: [var/log/]}`                  => watch.include[0]: "var/log/" is not an absolute directory prefix; start it with '/'
            `intake: {endpoints: [a:1]}
            watch: {exclude: [tmp]}`                       => watch.exclude[0]: "tmp/" is not an absolute directory prefix; start it with '/'
            `intake: {endpoints: [a:1]}
            watch: {ringBufferBytes: 5000}`                => watch.ringBufferBytes: 5000B must be a power of two from 4KiB to 1GiB
            `intake: {endpoints: [a:1]}
            watch: {excludeComms: [a-very-long-process-name]}` => watch.excludeComms[0]: "a-very-long-process-name" must be 1..15 bytes without '/' or NUL
            `intake: {endpoints: []}`                      => intake.endpoints: at least one HOST:PORT, e.g. "intake.example.com:4317", "10.0.0.5:4317" or "[fd00::5]:4317" is required
            `agentId: web-01`                              => intake.endpoints: at least one HOST:PORT, e.g. "intake.example.com:4317", "10.0.0.5:4317" or "[fd00::5]:4317" is required
            `intake: {endpoints: ["a:70000"]}`             => intake.endpoints[0]: port 70000 in "a:70000" is outside 1..65535
            `intake: {endpoints: ["a:0"]}`                 => intake.endpoints[0]: port 0 in "a:0" is outside 1..65535
            `intake: {endpoints: ["a:0", "b:1"]}`          => intake.endpoints[0]: port 0 in "a:0" is outside 1..65535
            `intake: {endpoints: [intake.example.com]}`    => intake.endpoints[0]: "intake.example.com" is not HOST:PORT, e.g. "intake.example.com:4317", "10.0.0.5:4317" or "[fd00::5]:4317"
            `intake: {endpoints: ["bad_host!:80"]}`        => intake.endpoints[0]: "bad_host!" in "bad_host!:80" is not a DNS name or IP address
            `intake: {endpoints: "a:1"}`                   => intake.endpoints: expected a list of strings, got "a:1"
            `intake: {endpoints: [a:1], backoffBase: 2s, backoffCap: 1s}` => intake.backoffCap: 1s must be >= intake.backoffBase (2s)
            `intake: {endpoints: [a:1]}
            source: {kind: bpf}`                           => source.kind: "bpf" is not one of ebpf, fallback, auto
            `intake: {endpoints: [a:1]}
            priority: {rules: [{prefix: /etc/, priority: urgent}]}` => priority.rules[0].priority: "urgent" is not one of critical, normal, bulk
            `intake: {endpoints: [a:1]}
            priority: {default: high}`                     => priority.default: "high" is not one of critical, normal, bulk
            `intake: {endpoints: [a:1]}
            priority: {rules: [{prefix: /etc/}]}`          => priority.rules[0].priority: required (one of critical, normal, bulk)
            `intake: {endpoints: [a:1]}
            priority: {rules: [{prefix: etc, priority: bulk}]}` => priority.rules[0].prefix: "etc" is not an absolute path prefix; start it with '/'
            `intake: {endpoints: [a:1]}
            metrics: {port: 70000}`                        => metrics.port: 70000 is outside 1..65535 (or 0 for any free port, -1 for none)
            `intake: {endpoints: [a:1]}
            metrics: {host: " "}`                          => metrics.host: " " must be an IP address or host name without spaces (0.0.0.0 = all interfaces)
            `intake: {endpoints: [a:1]}
            metrics: {host: "127.0.0.1\\n"}`               => metrics.host: "127.0.0.1\\u000a" must be an IP address or host name without spaces (0.0.0.0 = all interfaces)
            `intake: {endpoints: [a:1]}
            spool: {maxBytes: 256KiB}`                     => spool.maxBytes: 256KiB must be at least twice batch.maxBytes (512KiB)
            """)
    void eachProblemNamesTheFieldAndWhatIsAllowed(String yaml, String expected) throws Exception {
        List<String> problems = problems(yaml);
        assertTrue(problems.stream().anyMatch(p -> p.endsWith(expected)), () -> "expected " + expected + " in " + problems);
        assertEquals(1, problems.size(), () -> "one problem only: " + problems);
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        assertEquals(List.of(
                "intake.endpoints[0]: port 0 in \"a:0\" is outside 1..65535",
                "batch.maxEvents: \"many\" is not an integer",
                "source.kind: \"bpf\" is not one of ebpf, fallback, auto"),
                problems("intake: {endpoints: [\"a:0\"]}\nbatch: {maxEvents: many}\nsource: {kind: bpf}\n"));
    }

    @Test
    void missingFileSaysSo() {
        assertEquals(List.of("config file " + dir.resolve("nope.yaml") + " does not exist"),
                assertThrows(InvalidConfigException.class,
                        () -> ShipperConfig.load(dir.resolve("nope.yaml"))).problems());
    }

    @Test
    void logSectionIsReadAndValidated() throws Exception {
        assertEquals(new dev.holdfast.config.LogSettings(dev.holdfast.config.LogSettings.Format.JSON,
                dev.holdfast.config.LogSettings.Level.WARN), ShipperConfig.load(write(
                "intake:\n  endpoints: [\"127.0.0.1:4317\"]\nlog:\n  format: json\n  level: warn\n")).log());
        assertEquals(List.of("log.level: \"verbose\" is not one of error|warn|info|debug|trace"),
                problems("intake:\n  endpoints: [\"127.0.0.1:4317\"]\nlog:\n  level: verbose\n"));
    }
}
