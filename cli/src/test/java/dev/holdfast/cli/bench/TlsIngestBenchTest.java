package dev.holdfast.cli.bench;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code holdfast bench ingest} over mutual TLS to a real intake that requires client certificates. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsIngestBenchTest {
    @TempDir
    Path dir;

    @Test
    void benchIngestOverMutualTlsGetsEveryBatchPersisted() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"), "ca");
        TestPki.Issued server = pki.server("intake", "localhost", "127.0.0.1");
        TestPki.Issued agent = pki.client("bench", "dns:bench.example");
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("tls-node", dir.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder(), new IntakeConfig.Tls(server.cert(), server.key(), pki.caCert(),
                IntakeConfig.Tls.ClientAuth.REQUIRE, false, false, Duration.ofSeconds(2))).withoutForwarder();
        Path acked = dir.resolve("acked.log");
        try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start()) {
            int exit = new CommandLine(new IngestBenchCommand()).execute("--target", "localhost:" + intake.grpcPort(),
                    "--agents", "2", "--batches", "20", "--batch", "5", "--acked-log", acked.toString(),
                    "--tls-ca", pki.caCert().toString(), "--tls-cert", agent.cert().toString(),
                    "--tls-key", agent.key().toString());
            assertEquals(0, exit);
        }
        List<String> lines = Files.readAllLines(acked);
        assertEquals(40, lines.size());
        assertEquals(new HashSet<>(lines), walBatches(dir.resolve("data")));
    }

    @Test
    void aWrongServerNameIsAnOptionTheCommandChecks() {
        int exit = new CommandLine(new IngestBenchCommand()).setExecutionExceptionHandler((e, c, p) -> 2)
                .execute("--target", "localhost:1", "--batches", "1", "--tls-server-name", "intake.example");
        assertEquals(2, exit, "--tls-server-name without TLS is refused");
    }

    private static Set<String> walBatches(Path data) throws Exception {
        Set<String> out = new HashSet<>();
        try (WalInspector w = WalInspector.open(IntakeServer.walDir(data))) {
            w.forEach(null, null, e -> {
                WalRecord r = ((WalReader.Valid) e).record();
                out.add(r.header().agentId() + " " + Long.toUnsignedString(r.header().batchSeq()));
            });
        }
        return out;
    }
}
