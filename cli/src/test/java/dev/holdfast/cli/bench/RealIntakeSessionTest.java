package dev.holdfast.cli.bench;

import dev.holdfast.cli.CapturedLog;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.client.Endpoints;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agents' session (the same IntakeSession the shipper runs) against real intakes on loopback: how the sequence
 * rules look from the sending side.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RealIntakeSessionTest {
    @TempDir
    Path dir;
    /** The bench's progress (printed) and the sessions' messages (reconnects, resumed seqs; logged). */
    @RegisterExtension
    final CapturedLog captured = CapturedLog.capture();

    @Test
    void anAgentContinuesAboveAnUnsignedSeqAnEarlierIncarnationLeft() throws Exception {
        long leftBehind = Long.MIN_VALUE + 5; // 2^63 + 5
        try (IntakeServer intake = start(dir.resolve("a"))) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", intake.grpcPort()).usePlaintext().build();
            try {
                BatchAck ack = IntakeServiceGrpc.newBlockingStub(channel).send(EventBatch.newBuilder()
                        .setAgentId("t-0").setBatchSeq(leftBehind).addEvents(Event.newBuilder().setTimeUnixNano(1))
                        .build());
                assertEquals(BatchAck.Status.PERSISTED, ack.getStatus());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            BenchReport report = runBench(List.of(intake.grpcPort()), 1, 20, 0, dir.resolve("acked.log"));
            assertEquals(0, report.exitCode(), report.toText() + captured.text());
            assertEquals(0, report.duplicates());
            assertEquals(0, report.invalid());
        }
        List<String> expected = new ArrayList<>();
        for (long seq = leftBehind + 1; seq <= leftBehind + 20; seq++) {
            expected.add("t-0 " + Long.toUnsignedString(seq));
        }
        assertEquals(expected, Files.readAllLines(dir.resolve("acked.log")).stream().sorted().toList());
        Set<String> wal = walBatches(dir.resolve("a"));
        assertEquals(21, wal.size());
        assertTrue(wal.contains("t-0 9223372036854775813"), wal.toString());
        assertTrue(wal.contains("t-0 9223372036854775833"), wal.toString());
        assertTrue(captured.text().contains("continuing at 9223372036854775814"), captured.text());
    }

    @Test
    void agentsFailingOverToAnotherIntakeResumeFromTheirClaimAndLoseNothing() throws Exception {
        int agents = 3;
        long batches = 800;
        IntakeServer b = start(dir.resolve("b"));
        try {
            Path acked = dir.resolve("acked.log");
            IntakeServer a = start(dir.resolve("a"));
            Thread killer = new Thread(() -> {
                try {
                    Thread.sleep(1000);
                    // open streams go on for the intake's 5 s grace period, then are cut: the agents move to b,
                    // saying Hello with what they hold nothing below (their claim)
                    a.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            killer.start();
            BenchReport report = runBench(List.of(a.grpcPort(), b.grpcPort()), agents, batches, 100, acked);
            killer.join();
            assertEquals(0, report.exitCode(), report.toText() + captured.text());
            assertEquals(0, report.invalid(), report.toText());
            assertTrue(report.reconnects() >= agents, report.toText());

            Set<String> onA = walBatches(dir.resolve("a"));
            Set<String> onB = walBatches(dir.resolve("b"));
            assertTrue(onA.size() > agents && onB.size() > agents, "both intakes took batches: " + onA.size()
                    + " and " + onB.size());
            Set<String> both = new HashSet<>(onA);
            both.addAll(onB);
            for (String line : Files.readAllLines(acked)) {
                assertTrue(both.contains(line), "acknowledged and in neither WAL: " + line);
            }
            assertEquals(agents * batches, Files.readAllLines(acked).size());
        } finally {
            b.close();
        }
    }

    private IntakeServer start(Path data) throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("node-" + data.getFileName(), data, Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder()).withoutForwarder();
        return new IntakeServer(cfg, IntakeServer.newRegistry()).start();
    }

    private BenchReport runBench(List<Integer> ports, int agents, long batches, double rate, Path ackedLog)
            throws Exception {
        IngestConfig config = new IngestConfig(ports.stream().map(p -> new Endpoints.Target("127.0.0.1", p)).toList(),
                agents, 5, 200, 0, batches, ackedLog, 4, Priority.NORMAL, "t", null, 0, 60, 256, rate,
                IngestConfig.DEFAULT_DNS_REFRESH_SECONDS, false);
        return IngestBenchTest.run(config, captured);
    }

    /** "agent seq" of every record in a WAL (seq unsigned); fails on a batch written twice in it. */
    private static Set<String> walBatches(Path data) throws Exception {
        Set<String> out = new HashSet<>();
        try (WalInspector w = WalInspector.open(IntakeServer.walDir(data))) {
            w.forEach(null, null, e -> {
                WalRecord r = ((WalReader.Valid) e).record();
                String key = r.header().agentId() + " " + Long.toUnsignedString(r.header().batchSeq());
                assertTrue(out.add(key), "written twice in " + data + ": " + key);
            });
        }
        return out;
    }
}
