package dev.holdfast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.auth.Tokens;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast bench ingest --token-file} against a real intake that requires bearer tokens: with the token every
 * batch is persisted as the agents its line grants; another agent prefix is refused and leaves nothing behind.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TokenIngestBenchTest {
    @TempDir
    Path dir;

    @Test
    void benchIngestSendsItsTokenAndOnlyGrantedAgentsArePersisted() throws Exception {
        String token = "s3cret-token-for-the-bench";
        Path tokens = Files.writeString(dir.resolve("tokens"), Tokens.hash(token) + " bench-gw bench-*\n");
        Path tokenFile = Files.writeString(dir.resolve("bench.token"), token + "\n");
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("token-node", dir.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder(), IntakeConfig.Tls.OFF,
                new IntakeConfig.Auth(IntakeConfig.Auth.Require.TOKEN, tokens, List.of(), "")).withoutForwarder();
        Path acked = dir.resolve("acked.log");
        try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start()) {
            String target = "127.0.0.1:" + intake.grpcPort();
            CliErrorsTest.Run ok = CliErrorsTest.run("bench", "ingest", "--target", target, "--agents", "2",
                    "--batches", "10", "--batch", "5", "--acked-log", acked.toString(),
                    "--token-file", tokenFile.toString());
            assertEquals(0, ok.exitCode(), ok.toString());
            assertEquals(20, Files.readAllLines(acked).size());
            assertEquals(2, intake.wal().sequences().agentCount());
            assertFalse(ok.everythingOnStderr().contains(token), "the token is never printed");

            // the token's line grants bench-*, not other-*: refused, nothing written for it
            // (an agent refused keeps retrying, as a shipper whose token may yet be fixed would: --duration ends it)
            CliErrorsTest.Run other = CliErrorsTest.run("bench", "ingest", "--target", target, "--agents", "1",
                    "--warmup", "0", "--duration", "2", "--agent-prefix", "other", "--token-file", tokenFile.toString());
            assertNotEquals(0, other.exitCode(), other.toString());
            assertTrue(other.everythingOnStderr().contains("PERMISSION_DENIED"), other.toString());
            assertTrue(other.everythingOnStderr().contains("refused this agent"), "says what would fix it: " + other);
            assertEquals(2, intake.wal().sequences().agentCount(), "a refused agent leaves no trace");

            // and without the token at all
            CliErrorsTest.Run none = CliErrorsTest.run("bench", "ingest", "--target", target, "--agents", "1",
                    "--warmup", "0", "--duration", "2");
            assertNotEquals(0, none.exitCode(), none.toString());
            assertTrue(none.everythingOnStderr().contains("UNAUTHENTICATED"), none.toString());
            assertTrue(none.everythingOnStderr().contains("check its token file or client certificate"), none.toString());
            assertEquals(2, intake.wal().sequences().agentCount());
        }
    }

    @Test
    void aMissingOrEmptyTokenFileIsOneLineNamingIt() throws Exception {
        Path absent = dir.resolve("absent");
        CliErrorsTest.Run r = CliErrorsTest.run("bench", "ingest", "--target", "127.0.0.1:1", "--batches", "1",
                "--token-file", absent.toString());
        assertEquals(4, r.exitCode(), r.toString());
        assertEquals(List.of("holdfast bench ingest: --token-file: token file " + absent + ": no such file"),
                r.reportLines());
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        CliErrorsTest.Run e = CliErrorsTest.run("bench", "ingest", "--target", "127.0.0.1:1", "--batches", "1",
                "--token-file", empty.toString());
        assertEquals(4, e.exitCode(), e.toString());
        assertTrue(e.report().contains("token file " + empty + ": empty"), e.toString());
        assertFalse(e.everythingOnStderr().contains("\tat "), "no stack trace");
    }
}
