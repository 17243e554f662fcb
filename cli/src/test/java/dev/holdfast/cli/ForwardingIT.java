package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.forwarder.kafka.TopicAudit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End to end with real processes: agents → intake (WAL + forwarder) → Kafka broker. Under load the broker is killed
 * for 30 s (the intake must keep acknowledging), then the intake is SIGKILLed several times. Every event of every
 * acknowledged batch must be in the topic; duplicates are counted and reported (at-least-once).
 */
class ForwardingIT {
    private static final int EVENTS_PER_BATCH = 50;

    @TempDir
    Path tmp;

    @Test
    void everyAcknowledgedEventReachesKafkaThroughABrokerOutageAndIntakeKills() throws Exception {
        long seed = Long.getLong("holdfast.crash.seed", System.nanoTime());
        System.out.println("forwarding test seed: " + seed);
        Random random = new Random(seed);
        String topic = "events-it";
        Path ackedLog = tmp.resolve("acked.log");
        Path intakeLog = tmp.resolve("intake.log");
        int grpcPort = FreePorts.next();
        int httpPort = FreePorts.next();
        try (KafkaBrokerProcess broker = new KafkaBrokerProcess(tmp.resolve("kafka"), 0)) {
            broker.start();
            String[] intakeArgs = {"intake", "--data", tmp.resolve("data").toString(), "--grpc-port",
                    Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort), "--otlp-http-port", "0", "--durability", "fsync",
                    "--kafka", broker.bootstrap(), "--topic", topic};
            HoldfastProcess intake = HoldfastProcess.start(intakeLog, intakeArgs);
            List<Long> restartMillis = new ArrayList<>();
            long ackedDuringOutage;
            try (HoldfastProcess bench = HoldfastProcess.start(tmp.resolve("bench.log"), "bench", "ingest",
                    "--target", "127.0.0.1:" + grpcPort, "--agents", "3", "--batch", Integer.toString(EVENTS_PER_BATCH),
                    "--event-bytes", "200", "--rate", "50", "--window", "16", "--duration", "55", "--warmup", "0",
                    "--acked-log", ackedLog.toString())) {
                HoldfastProcess.awaitReady(httpPort, Duration.ofSeconds(60), intake);
                Thread.sleep(4000);
                broker.kill();
                long before = HoldfastProcess.lines(ackedLog);
                Thread.sleep(30_000);
                ackedDuringOutage = HoldfastProcess.lines(ackedLog) - before;
                System.out.printf("broker down 30 s: %d batches acknowledged meanwhile%n", ackedDuringOutage);
                broker.restart();
                for (int kill = 1; kill <= 3; kill++) {
                    Thread.sleep(1500 + random.nextInt(2500));
                    intake.kill();
                    intake = HoldfastProcess.start(intakeLog, intakeArgs);
                    restartMillis.add(HoldfastProcess.awaitReady(httpPort, Duration.ofSeconds(30), intake));
                }
                assertTrue(bench.process().waitFor(120, TimeUnit.SECONDS), "load generator did not finish");
                assertEquals(0, bench.process().exitValue(), Files.readString(bench.log));
            }
            try {
                assertTrue(ackedDuringOutage > 100, "the intake must keep acknowledging while Kafka is down: "
                        + ackedDuringOutage);
                Set<String> expected = new HashSet<>();
                for (String line : Files.readAllLines(ackedLog)) {
                    String[] agentSeq = line.split(" ");
                    for (int i = 0; i < EVENTS_PER_BATCH; i++) {
                        expected.add(agentSeq[0] + "/" + agentSeq[1] + "/" + i);
                    }
                }
                try (TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
                    audit.readUntil(expected.size(), Duration.ofSeconds(180));
                    // duplicates: every copy Kafka holds by now
                    assertTrue(audit.readToEnd(Duration.ofSeconds(30)), "could not read " + topic + " to its end");
                    List<String> missing = expected.stream().filter(id -> audit.copies(id) == 0).sorted().limit(20).toList();
                    long missingCount = expected.stream().filter(id -> audit.copies(id) == 0).count();
                    String report = String.format("forwarding test: seed %d, %d events acknowledged, %d in Kafka, "
                                    + "%d missing, %d duplicates (%.2f %%), %d acknowledged during a 30 s broker outage, "
                                    + "3 intake SIGKILLs, restart-to-ready ms %s%n", seed, expected.size(), audit.distinct(),
                            missingCount, audit.duplicates(), 100.0 * audit.duplicates() / Math.max(1, expected.size()),
                            ackedDuringOutage, restartMillis);
                    System.out.print(report);
                    Files.writeString(Path.of("target", "forwarding-report.txt"), report);
                    assertEquals(List.of(), missing, "acknowledged events missing from Kafka");
                }
            } finally {
                intake.stop();
            }
        }
    }
}
