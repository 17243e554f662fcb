package dev.holdfast.cli.bench;

import dev.holdfast.cli.CapturedLog;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.client.Endpoints;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the real generator against a fake intake on loopback Netty (no in-process shortcuts). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class IngestBenchTest {

    private static final int AGENTS = 3;
    private static final long BATCHES = 40;

    @TempDir
    Path dir;

    private Server server;
    /** The bench's progress (printed) and the sessions' messages (reconnects, resumed seqs; logged). */
    @RegisterExtension
    final CapturedLog captured = CapturedLog.capture();

    @AfterEach
    void stopServer() throws InterruptedException {
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyBatchAckedOnceAcrossRetriesAndAKilledStream() throws Exception {
        // seq 10 is shed on its first attempt, and the stream dies right after persisting seq 11,
        // so the reconnect's Welcome must report 11 in persisted_above and 10 must still be resent.
        FakeIntake intake = new FakeIntake((agent, seq) -> seq % 7 == 3,
                (agent, seq) -> agent.equals("t-1") && seq == 11);
        server = start(intake, 0);
        Path ackedLog = dir.resolve("acked.log");

        BenchReport report = runBench(server.getPort(), ackedLog);

        assertEquals(0, report.exitCode(), report.toText() + captured.text());
        assertTrue(intake.killed());
        assertAckedExactlyOnce(ackedLog);
        for (int a = 0; a < AGENTS; a++) {
            String agent = "t-" + a;
            for (long seq = 1; seq <= BATCHES; seq++) {
                assertTrue(intake.persisted(agent).contains(seq), agent + " " + seq);
                if (seq % 7 == 3) {
                    assertTrue(intake.receipts(agent, seq) >= 2, "RETRY_LATER batch resent: " + agent + " " + seq);
                }
            }
        }
        assertEquals(0, intake.resentAfterPersisted(), "nothing the Welcome reported persisted was resent");
        assertEquals(AGENTS * (BATCHES / 7 + (BATCHES % 7 >= 3 ? 1 : 0)), report.retries());
        assertEquals(1, report.reconnects());
        assertEquals(1, report.resumedFromWelcome(), "the batch whose ack died with the stream");
        assertTrue(intake.welcomes().stream().anyMatch(w -> w.getPersistedAboveList().contains(11L)),
                "out-of-order persisted batch reported in persisted_above: " + intake.welcomes());
        assertEquals(AGENTS * BATCHES, report.totalBatchesAcked());
        assertEquals(AGENTS * BATCHES * 20, report.totalEventsAcked());
        assertEquals(0, report.duplicates());
        assertEquals(0, report.invalid());
        assertEquals(0, report.unacknowledged());
        assertTrue(report.latencySamples() > 0 && report.latencyMaxMs() > 0);
        assertLatencyDistribution(report);
    }

    @Test
    void finishesTheJobAcrossAnIntakeRestart() throws Exception {
        FakeIntake intake = new FakeIntake((agent, seq) -> false, (agent, seq) -> false);
        server = start(intake, 0);
        int port = server.getPort();
        Path ackedLog = dir.resolve("acked.log");

        // Every agent must still have work in flight when the intake dies (else a fast agent may be done
        // and never reconnect): batches past the middle go unanswered until the restart.
        intake.holdAbove(BATCHES / 2);
        Thread restarter = new Thread(() -> {
            try {
                while (intake.agentsHeld() < AGENTS) {
                    Thread.sleep(1);
                }
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                intake.answerAll();
                Thread.sleep(700); // long enough for several failed reconnect attempts
                server = start(intake, port);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        restarter.start();
        BenchReport report = runBench(port, ackedLog);
        restarter.join();

        assertEquals(0, report.exitCode(), report.toText() + captured.text());
        assertAckedExactlyOnce(ackedLog);
        assertEquals(AGENTS, report.reconnects(), captured.text());
        assertEquals(0, intake.resentAfterPersisted());
        assertTrue(captured.text().contains("reconnecting with backoff"), "the outage is logged: " + captured.text());
    }

    @Test
    void failsOverToTheNextIntakeWhenOneDies() throws Exception {
        FakeIntake first = new FakeIntake((agent, seq) -> false, (agent, seq) -> false);
        FakeIntake second = new FakeIntake((agent, seq) -> false, (agent, seq) -> false);
        server = start(first, 0);
        Server other = start(second, 0);
        int firstPort = server.getPort();
        try {
            Path ackedLog = dir.resolve("acked.log");
            Thread killer = new Thread(() -> {
                try {
                    while (first.batchesReceived() < AGENTS * BATCHES / 3) {
                        Thread.sleep(1);
                    }
                    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS); // and it stays down
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            killer.start();

            BenchReport report = runBench(List.of(firstPort, other.getPort()), ackedLog);
            killer.join();

            assertEquals(0, report.exitCode(), report.toText() + captured.text());
            assertAckedExactlyOnce(ackedLog);
            for (int a = 0; a < AGENTS; a++) {
                assertTrue(second.batchesReceived() > 0, "the second intake took over");
                for (long seq = 1; seq <= BATCHES; seq++) {
                    String agent = "t-" + a;
                    assertTrue(first.persisted(agent).contains(seq) || second.persisted(agent).contains(seq),
                            agent + " " + seq);
                }
            }
            assertTrue(captured.text().contains("127.0.0.1:" + firstPort), "the lost node is named");
        } finally {
            other.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private BenchReport runBench(int port, Path ackedLog) throws Exception {
        return runBench(List.of(port), ackedLog);
    }

    private BenchReport runBench(List<Integer> ports, Path ackedLog) throws Exception {
        IngestConfig config = new IngestConfig(ports.stream().map(p -> new Endpoints.Target("127.0.0.1", p)).toList(),
                AGENTS, 20, 200, 0, BATCHES, ackedLog, 4,
                Priority.NORMAL, "t", null, 0, 30, 256, 0, IngestConfig.DEFAULT_DNS_REFRESH_SECONDS, false);
        return run(config, captured);
    }

    /** Runs a bench to its end, its acks logged to the config's file; the report and the log go to the test's output. */
    static BenchReport run(IngestConfig config, CapturedLog captured) throws Exception {
        AckedLog sink = AckedLog.open(config.ackedLog());
        try (IngestBench bench = new IngestBench(config, sink, captured.out(), System::nanoTime)) {
            BenchReport report = bench.run();
            System.out.print(report.toText() + captured.text()); // lands in the surefire -output.txt
            return report;
        } finally {
            sink.close();
        }
    }

    /** The distribution the plots are drawn from climbs to 100 % at the maximum, through the reported p50 and p99. */
    private static void assertLatencyDistribution(BenchReport report) {
        List<BenchReport.LatencyPoint> points = report.latencyDistribution();
        assertTrue(points.size() > 10, "distribution: " + points);
        for (int i = 1; i < points.size(); i++) {
            assertTrue(points.get(i).percentile() >= points.get(i - 1).percentile()
                    && points.get(i).ms() >= points.get(i - 1).ms(), "not climbing at step " + i + ": " + points);
        }
        BenchReport.LatencyPoint last = points.get(points.size() - 1);
        assertEquals(100.0, last.percentile(), 1e-9);
        assertEquals(report.latencyMaxMs(), last.ms(), 1e-9);
        for (double[] q : new double[][] {{50, report.latencyP50Ms()}, {99, report.latencyP99Ms()}}) {
            BenchReport.LatencyPoint at = points.stream().filter(p -> p.percentile() >= q[0]).findFirst().orElseThrow();
            assertTrue(at.ms() >= q[1], "p" + q[0] + " " + q[1] + " ms, the distribution's step there " + at);
        }
    }

    private static void assertAckedExactlyOnce(Path ackedLog) throws Exception {
        List<String> lines = Files.readAllLines(ackedLog);
        Map<String, Integer> counts = new HashMap<>();
        for (String line : lines) {
            counts.merge(line, 1, Integer::sum);
        }
        for (int a = 0; a < AGENTS; a++) {
            for (long seq = 1; seq <= BATCHES; seq++) {
                assertEquals(1, counts.getOrDefault("t-" + a + " " + seq, 0), "acked-log line t-" + a + " " + seq);
            }
        }
        assertEquals(AGENTS * BATCHES, lines.size());
    }

    private static Server start(FakeIntake intake, int port) throws Exception {
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(intake)
                .build()
                .start();
    }
}
