package dev.holdfast.intake.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig.RollCycle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IntakeConfigTest {

    private static final Function<String, String> NO_ENV = name -> null;

    @TempDir
    Path tmp;

    @Test
    void logSectionIsReadAndValidated() throws Exception {
        IntakeConfig c = load("log:\n  format: json\n  level: debug\n");
        assertEquals(new dev.holdfast.config.LogSettings(dev.holdfast.config.LogSettings.Format.JSON,
                dev.holdfast.config.LogSettings.Level.DEBUG), c.log());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> load("log:\n  format: JSON\n  level: loud\n  colour: true\n"));
        assertEquals(java.util.List.of("log.format: \"JSON\" is not one of text|json",
                "log.level: \"loud\" is not one of error|warn|info|debug|trace",
                "log.colour: unknown key; known keys in log: format, level"), e.problems());
    }

    @Test
    void forwarderSectionIsReadAndValidated() throws Exception {
        IntakeConfig c = load("forwarder:\n  kafka: k1:9092,k2:9093\n  topic: t.x\n  retention: 10m\n"
                + "  producer: {linger.ms: 20, compression.type: zstd}\ndurability: replicated\n");
        assertEquals("k1:9092,k2:9093", c.forwarder().kafka());
        assertEquals(java.time.Duration.ofMinutes(10), c.forwarder().retention());
        assertEquals(java.util.Map.of("linger.ms", "20", "compression.type", "zstd"), c.forwarder().producer());
        assertEquals(Durability.REPLICATED, c.durability());

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(
                "durability: replicated\nforwarder:\n  kafka: none\n  topic: 'bad topic'\n  enabled: maybe\n"
                        + "  backlogMinShare: 1.5\n  producer: {acks: [1, 2]}\n"));
        assertTrue(e.problems().contains("forwarder.enabled: expected true or false, got \"maybe\""), e.getMessage());
        assertTrue(e.problems().contains("forwarder.topic: \"bad topic\" must be 1..249 characters from A-Z a-z 0-9 . _ -"), e.getMessage());
        assertTrue(e.problems().contains("forwarder.backlogMinShare: 1.5 must be between 0 and 1 (exclusive)"), e.getMessage());
        assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("forwarder.producer.acks: expected a single value")), e.getMessage());
        assertTrue(e.problems().contains("durability: replicated needs the forwarder (forwarder.enabled: true and forwarder.kafka not none)"), e.getMessage());
        InvalidConfigException k = assertThrows(InvalidConfigException.class, () -> load("forwarder:\n  kafka: 'not a host'\n"));
        assertEquals(java.util.List.of("forwarder.kafka: \"not a host\" is not embedded, none, or a list of host:port"), k.problems());
    }

    @Test
    void aLargerBatchLimitRaisesTheDefaultBudgetForMessagesInProgress() throws Exception {
        IntakeConfig.Connections c = load("limits: {maxBatchBytes: 12MiB}\n").limits().connections();
        assertEquals(25L << 20, c.partialMessageBytes(), "2 x 12 MiB + 1 MiB, the largest message read");
        assertEquals(96L << 20, c.partialMessageBytesTotal());
        IntakeConfig.Connections d = load("limits: {maxBatchBytes: 1MiB}\n").limits().connections();
        assertEquals(IntakeConfig.Connections.DEFAULTS, d, "a smaller one leaves the defaults");
    }

    @Test
    void defaultsAreValidAndMatchTheDocumentedValues() {
        IntakeConfig c = IntakeConfig.defaults(NO_ENV);
        assertEquals(Path.of("data"), c.dataDir());
        assertEquals(Durability.FSYNC, c.durability());
        // secure by default: without TLS both listeners stay on loopback
        assertEquals(new IntakeConfig.Endpoint("127.0.0.1", 4317), c.grpc());
        assertEquals(new IntakeConfig.Endpoint("127.0.0.1", 8080), c.http());
        assertEquals(new IntakeConfig.Limits(4L << 20, 10_000, 256, 64L << 20, 0), c.limits());
        assertEquals(10L << 30, c.wal().maxBytes());
        assertEquals(512L << 20, c.wal().minFreeBytes());
        assertEquals(0.80, c.wal().bulkWatermark());
        assertEquals(0.90, c.wal().normalWatermark());
        assertEquals(Duration.ofSeconds(1), c.wal().retryAfter());
        assertEquals(Duration.ofMillis(2), c.wal().groupCommitMaxDelay());
        assertEquals(8L << 20, c.wal().groupCommitMaxBytes());
        assertEquals(RollCycle.FAST_HOURLY, c.wal().rollCycle());
        assertEquals(64L << 20, c.wal().blockSize());
        assertTrue(!c.nodeId().isBlank(), "nodeId defaults to the host name");
        IntakeConfig.defaults(); // the real environment must produce a valid config too
    }

    @Test
    void dataDirDefaultFollowsHolfastHome() {
        IntakeConfig c = IntakeConfig.defaults(Map.of("HOLDFAST_HOME", "/opt/holdfast")::get);
        assertEquals(Path.of("/opt/holdfast/data"), c.dataDir());
    }

    @Test
    void readsEveryFieldFromYaml() throws IOException {
        IntakeConfig c = load("""
                nodeId: edge-7
                dataDir: /var/lib/holdfast
                durability: written
                grpc: {host: 127.0.0.1, port: 0}
                http: {host: localhost, port: 9090}
                limits:
                  maxBatchBytes: 512KiB
                  maxEventsPerBatch: 500
                  maxAgentIdBytes: 64
                  maxInflightBytes: 1048576
                  connections: {max: 200, maxPerAddress: 20, fdReserve: 32, idleTimeout: 2m, requestTimeout: 5s}
                wal:
                  maxBytes: 2GiB
                  minFreeBytes: 64MB
                  bulkWatermark: 0.5
                  normalWatermark: 0.5
                  retryAfter: 250
                  groupCommitMaxDelay: 500us
                  groupCommitMaxBytes: "1 MiB"
                  rollCycle: FIVE_MINUTELY
                  blockSize: 16MiB
                """);
        assertEquals("edge-7", c.nodeId());
        assertEquals(Path.of("/var/lib/holdfast"), c.dataDir());
        assertEquals(Durability.WRITTEN, c.durability());
        assertEquals(new IntakeConfig.Endpoint("127.0.0.1", 0), c.grpc());
        assertEquals(new IntakeConfig.Endpoint("localhost", 9090), c.http());
        assertEquals(new IntakeConfig.Limits(512 * 1024, 500, 64, 1 << 20, 0, new IntakeConfig.Connections(200, 20, 32,
                Duration.ofMinutes(2), Duration.ofSeconds(5))), c.limits());
        assertEquals(new IntakeConfig.Wal(2L << 30, 64_000_000, 0.5, 0.5, Duration.ofMillis(250),
                Duration.ofNanos(500_000), 1 << 20, RollCycle.FIVE_MINUTELY, 16L << 20), c.wal());
    }

    @Test
    void missingKeysAndEmptyValuesKeepDefaults() throws IOException {
        assertEquals(IntakeConfig.defaults(NO_ENV), load("wal:\n  maxBytes:\ngrpc: {}\n"));
        assertEquals(IntakeConfig.defaults(NO_ENV), load(""));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = "=>", quoteCharacter = '`', textBlock = """
            durability: fsnc                      => durability: "fsnc" is not one of written|fsync
            durability: FSYNC                     => durability: "FSYNC" is not one of written|fsync
            grpc: {port: 70000}                   => grpc.port: 70000 is outside 1..65535 (0 = pick a free port)
            http: {port: -1}                      => http.port: -1 is outside 1..65535 (0 = pick a free port)
            grpc: {port: abc}                     => grpc.port: "abc" is not an integer
            grpc: {port: 99999999999}             => grpc.port: 99999999999 is too large
            grpc: {host: ""}                      => grpc.host: "" must be an IP address or host name
            http: {port: 4317}                    => http.port: 4317 is also grpc.port; the two listeners need different ports
            grpc: 4317                            => grpc: expected a section (a mapping of keys to values), got 4317
            nodeId: "has space"                   => nodeId: "has space" must be 1..253 characters from A-Z a-z 0-9 . _ -
            nodeId: 7                             => nodeId: expected a string, got 7; quote it
            limits: {maxBatchBytes: 4XB}          => limits.maxBatchBytes: "4XB" is not a size; use a number of bytes or a number with unit B|KB|MB|GB|TB|KiB|MiB|GiB|TiB
            limits: {maxBatchBytes: 2GiB, maxInflightBytes: 4GiB} => limits.maxBatchBytes: 2GiB is outside 1B..1GiB
            limits: {connections: {max: 0}}      => limits.connections.max: 0 is outside 1..1000000
            limits: {connections: {max: 10, maxPerAddress: 11}} => limits.connections.maxPerAddress: 11 is outside 1..10
            limits: {connections: {idleTimeout: 10ms}} => limits.connections.idleTimeout: 10ms is outside 1s..24h
            limits: {connections: {requestTimeout: 1h}} => limits.connections.requestTimeout: 1h is outside 100ms..10m
            limits: {connections: {partialMessageBytes: 8MiB}} => limits.connections.partialMessageBytes: 8MiB must be >= 2 x limits.maxBatchBytes + 1MiB (9MiB), the largest message the intake reads
            limits: {maxBatchBytes: 8MiB, connections: {partialMessageBytes: 16MiB}} => limits.connections.partialMessageBytes: 16MiB must be >= 2 x limits.maxBatchBytes + 1MiB (17MiB), the largest message the intake reads
            limits: {connections: {partialMessageBytesTotal: 10MiB}} => limits.connections.partialMessageBytesTotal: 10MiB must be >= limits.connections.partialMessageBytes (16MiB)
            limits: {maxEventsPerBatch: 0}        => limits.maxEventsPerBatch: 0 is outside 1..1000000
            limits: {maxAgentIdBytes: 5000}       => limits.maxAgentIdBytes: 5000 is outside 1..4096
            limits: {maxInflightBytes: 1MiB}      => limits.maxInflightBytes: 1MiB must be >= limits.maxBatchBytes (4MiB)
            wal: {maxBytes: 32MiB}                => wal.maxBytes: 32MiB must be >= wal.blockSize (64MiB)
            wal: {minFreeBytes: -1}               => wal.minFreeBytes: -1 must be >= 0
            wal: {bulkWatermark: 0}               => wal.bulkWatermark: 0.0 must be > 0 and < 1
            wal: {normalWatermark: 1.0}           => wal.normalWatermark: 1.0 must be > 0 and < 1
            wal: {bulkWatermark: 0.95}            => wal.bulkWatermark: 0.95 must be <= wal.normalWatermark (0.9); required: 0 < bulkWatermark <= normalWatermark < 1
            wal: {bulkWatermark: high}            => wal.bulkWatermark: "high" is not a number
            wal: {retryAfter: 0}                  => wal.retryAfter: 0ms is outside 1ms..1h
            wal: {groupCommitMaxDelay: 150ms}     => wal.groupCommitMaxDelay: 150ms is outside 0ms..100ms
            wal: {groupCommitMaxDelay: -5}        => wal.groupCommitMaxDelay: -5ms is outside 0ms..100ms
            wal: {groupCommitMaxDelay: 2 sec}     => wal.groupCommitMaxDelay: "2 sec" is not a duration; use milliseconds or a number with unit ns|us|ms|s|m|h
            wal: {groupCommitMaxBytes: 0}         => wal.groupCommitMaxBytes: 0B is outside 1B..1GiB
            wal: {rollCycle: HOURLY}              => wal.rollCycle: "HOURLY" is not one of FIVE_MINUTELY|TEN_MINUTELY|TWENTY_MINUTELY|HALF_HOURLY|FAST_HOURLY|TWO_HOURLY|FOUR_HOURLY|SIX_HOURLY|FAST_DAILY
            wal: {blockSize: 64KiB}               => wal.blockSize: 64KiB is outside 1MiB..1GiB
            wal: {blockSize: 8MiB}                => limits.maxBatchBytes: 4MiB does not fit one WAL record with wal.blockSize 8MiB (at most 2087936 bytes
            dataDir: "a\\0b"                      => dataDir: "a\\u0000b" is not a valid path
            wal: [1, 2]                           => wal: expected a section (a mapping of keys to values), got a list
            """)
    void invalidValueNamesFieldAndWhatIsAllowed(String yaml, String expected) throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(yaml));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().startsWith(expected), () -> "expected <" + expected + "> in <" + e.getMessage() + ">");
    }

    @Test
    void theOtlpSectionIsReadWithItsPriorityRules() throws IOException {
        IntakeConfig c = load("""
                otlp:
                  http: {port: 14318}
                  topics: {logs: l, spans: s}
                  encoding: otlp_json
                  priority:
                    metrics: normal
                    errorSeverity: 13
                    rules:
                      - {signal: traces, attribute: deployment.environment, value: prod, priority: critical}
                      - {attribute: tier, value: batch, priority: bulk}
                """);
        IntakeConfig.Otlp o = c.otlp();
        assertEquals(14318, o.httpPort());
        assertEquals(new IntakeConfig.Otlp.Topics("l", "s", "holdfast.otlp.metrics"), o.topics());
        assertEquals("otlp_json", o.encoding());
        assertEquals(dev.holdfast.wal.BatchPriority.NORMAL, o.priority().metrics());
        assertEquals(dev.holdfast.wal.BatchPriority.CRITICAL, o.priority().errorLogs(), "the default kept");
        assertEquals(13, o.priority().errorSeverity());
        assertEquals(List.of(new dev.holdfast.intake.otlp.OtlpPriorities.AttributeRule(
                        dev.holdfast.otlp.OtlpSignal.TRACES, "deployment.environment", "prod",
                        dev.holdfast.wal.BatchPriority.CRITICAL),
                new dev.holdfast.intake.otlp.OtlpPriorities.AttributeRule(null, "tier", "batch",
                        dev.holdfast.wal.BatchPriority.BULK)), o.priority().rules());
        assertEquals(0, IntakeConfig.defaults(NO_ENV).withOverrides(new Overrides(null, null, null, null, null, null,
                null, null, null, null, null, 0)).otlp().httpPort(), "--otlp-http-port 0 turns it off");
    }

    @Test
    void otlpProblemsAreNamedEachOnItsLine() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load("""
                grpc: {port: 5000}
                otlp:
                  http: {port: 5000}
                  topics: {logs: holdfast.events, spans: "a b", metrics: m}
                  encoding: protobuf
                  priority:
                    traces: urgent
                    rules: [{value: x}]
                """));
        assertEquals(List.of(
                "otlp.priority.rules[0].attribute: must name a resource attribute",
                "otlp.priority.traces: \"urgent\" is not one of critical|normal|bulk",
                "otlp.http.port: 5000 is also the gRPC port; OTLP/HTTP needs a port of its own (0 = off)",
                "otlp.topics.logs: \"holdfast.events\" is already the topic of other records; each signal needs a"
                        + " topic of its own, apart from forwarder.topic and its dead letters",
                "otlp.topics.spans: \"a b\" must be 1..249 characters from A-Z a-z 0-9 . _ -",
                "otlp.encoding: \"protobuf\" is not one of otlp_proto|otlp_json"), e.problems());
    }

    @Test
    void unknownKeysAreNamedWithTheKnownKeysOfTheirSection() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> load("grcp: {port: 1}\nwal:\n  maxByte: 1GiB\n"));
        assertEquals(List.of(
                "wal.maxByte: unknown key; known keys in wal: maxBytes, minFreeBytes, bulkWatermark, "
                        + "normalWatermark, retryAfter, groupCommitMaxDelay, groupCommitMaxBytes, rollCycle, blockSize",
                "grcp: unknown key; known top-level keys: nodeId, dataDir, durability, grpc, http, limits, wal, forwarder, tls, auth, otlp, log"),
                e.problems());
    }

    @Test
    void everyProblemIsReportedTogetherOnePerLine() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load("""
                durability: fsnc
                grpc: {port: 70000}
                limits: {maxBatchBytes: lots}
                wal: {bulkWatermark: 0.95, colour: blue}
                """));
        assertEquals(5, e.problems().size(), e.getMessage());
        assertEquals(String.join("\n", e.problems()), e.getMessage());
        for (String field : List.of("durability:", "grpc.port:", "limits.maxBatchBytes:", "wal.bulkWatermark:",
                "wal.colour:")) {
            assertTrue(e.problems().stream().anyMatch(p -> p.startsWith(field)), field + " in " + e.getMessage());
        }
    }

    @Test
    void overridesWinOverTheFile() throws IOException {
        Path file = write("dataDir: /from/file\ndurability: fsync\ngrpc: {port: 1000}\nhttp: {port: 1001}\n");
        IntakeConfig c = IntakeConfig.load(file, new Overrides(Path.of("/from/cli"), 2000, 0, "written", null, null), NO_ENV);
        assertEquals(Path.of("/from/cli"), c.dataDir());
        assertEquals(2000, c.grpc().port());
        assertEquals(0, c.http().port());
        assertEquals(Durability.WRITTEN, c.durability());

        IntakeConfig partial = IntakeConfig.load(file, new Overrides(null, 3000, null, null, null, null), NO_ENV);
        assertEquals(Path.of("/from/file"), partial.dataDir());
        assertEquals(3000, partial.grpc().port());
        assertEquals(1001, partial.http().port());
    }

    @Test
    void anOverrideCanRepairABadValueInTheFileBecauseValidationRunsAfterIt() throws IOException {
        Path file = write("grpc: {port: 70000}\n");
        assertEquals(4317, IntakeConfig.load(file, new Overrides(null, 4317, null, null, null, null), NO_ENV).grpc().port());
    }

    @Test
    void badOverridesAreReportedLikeBadFileValues() {
        IntakeConfig c = IntakeConfig.defaults(NO_ENV);
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> c.withOverrides(new Overrides(null, 70000, null, "fsnc", null, null)));
        assertEquals(List.of(
                "durability: \"fsnc\" is not one of written|fsync|replicated",
                "grpc.port: 70000 is outside 1..65535 (0 = pick a free port)"), e.problems());

        InvalidConfigException clash = assertThrows(InvalidConfigException.class,
                () -> c.withOverrides(new Overrides(null, 9000, 9000, null, null, null)));
        assertEquals(List.of("http.port: 9000 is also grpc.port; the two listeners need different ports"),
                clash.problems());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = tmp.resolve("nope.yaml");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> IntakeConfig.load(missing));
        assertEquals("config file " + missing + " does not exist", e.getMessage());
    }

    @Test
    void yamlSyntaxErrorGivesFileLineAndColumn() throws IOException {
        Path file = write("grpc:\n  port: 4317\n  host: [unclosed\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> IntakeConfig.load(file));
        assertTrue(e.getMessage().startsWith("config file " + file + ": invalid YAML at line "), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).* at line \\d+, column \\d+: .+"), e.getMessage());
    }

    @Test
    void duplicateKeysAreAnErrorWithTheirPosition() throws IOException {
        Path file = write("grpc:\n  port: 1\n  port: 2\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> IntakeConfig.load(file));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("port"), e.getMessage());
    }

    @Test
    void authSectionIsReadAndValidated() throws Exception {
        assertEquals(IntakeConfig.Auth.NONE, IntakeConfig.defaults(NO_ENV).auth());
        IntakeConfig c = load("auth:\n  require: token\n  tokens: /etc/holdfast/tokens\n"
                + "  agents: [{identity: gw, agentIds: ['edge-*', 'lab-?']}]\n");
        assertEquals(new IntakeConfig.Auth(IntakeConfig.Auth.Require.TOKEN, Path.of("/etc/holdfast/tokens"),
                List.of(new IntakeConfig.AgentRule("gw", List.of("edge-*", "lab-?")))), c.auth());

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(
                "auth:\n  require: always\n  agents: [{identity: 'a b', agentIds: []}, {identity: gw, agentIds: ['x y']},"
                        + " {identity: gw, agentIds: [y]}, {identity: z, agentIds: [q], agent: w}]\n"));
        assertEquals(List.of(
                "auth.require: \"always\" is not one of none|certificate|token|any",
                "auth.agents[3].agent: unknown key; known keys in auth.agents[3]: identity, agentIds",
                "auth.agents[0].identity: \"a b\" must be a certificate CN or SAN or a token's identity: 1..4096"
                        + " printable characters without spaces",
                "auth.agents[0].agentIds: must list at least one agent id or glob (e.g. \"edge-*\")",
                "auth.agents[1].agentIds[0]: \"x y\" must be an agent id or a glob (* any characters, ? one):"
                        + " 1..4096 printable characters without spaces",
                "auth.agents[2].identity: \"gw\" has a rule already; merge their agentIds"), e.problems());

        InvalidConfigException plain = assertThrows(InvalidConfigException.class,
                () -> load("auth: {httpToken: hunter2}\n"));
        assertEquals(List.of("auth.httpToken: must be sha256:<64 hex digits>, the hash of the token (holdfast token"
                + " hash); a plaintext token is not accepted"), plain.problems());
        String hash = "sha256:" + "ab".repeat(32);
        assertEquals(hash, load("auth: {httpToken: '" + hash + "'}\n").auth().httpToken());

        InvalidConfigException noTokens = assertThrows(InvalidConfigException.class,
                () -> load("auth: {require: any}\n"));
        assertEquals(List.of("auth.tokens: must be set when auth.require is any (a file of token hashes; see"
                + " docs/SECURITY.md)"), noTokens.problems());
        // --auth-tokens supplies the file the section asks for
        IntakeConfig fixed = IntakeConfig.load(write("auth: {require: token}\n"),
                new Overrides(null, null, null, null, null, null, Path.of("/run/tokens")), NO_ENV);
        assertEquals(Path.of("/run/tokens"), fixed.auth().tokens());
    }

    @Test
    void environmentReferencesAreResolvedFromTheProcessEnvironment() throws Exception {
        Path f = write("""
                nodeId: ${NODE:-intake-x}
                grpc:
                  port: ${GRPC_PORT}
                wal:
                  maxBytes: "${WAL_GIB}GiB"
                """);
        IntakeConfig c = IntakeConfig.load(f, Overrides.NONE, java.util.Map.of("GRPC_PORT", "5555", "WAL_GIB", "3")::get);
        assertEquals(5555, c.grpc().port());
        assertEquals("intake-x", c.nodeId());
        assertEquals(3L << 30, c.wal().maxBytes());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> IntakeConfig.load(f, Overrides.NONE, NO_ENV));
        assertEquals(List.of("grpc.port: environment variable GRPC_PORT is not set (and ${GRPC_PORT} has no default;"
                + " write ${GRPC_PORT:-default} for one)", "wal.maxBytes: environment variable WAL_GIB is not set (and"
                + " ${WAL_GIB} has no default; write ${WAL_GIB:-default} for one)"), e.problems());
    }

    private IntakeConfig load(String yaml) throws IOException {
        return IntakeConfig.load(write(yaml), Overrides.NONE, NO_ENV);
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(Files.createTempFile(tmp, "holdfast", ".yaml"), yaml);
    }
}
