package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ChildProcess;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.chaos.harness.WalDamage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * 7. An intake is SIGKILLed under load and, while it is down, the tail of its WAL is damaged (a last record whose
 * bytes were torn). The restart must be quick, {@code holdfast wal verify} must name the damaged record, and every
 * acknowledged batch must still reach Kafka (the damaged one was never acknowledged to anyone).
 */
public final class TornTail extends Scenario {
    public TornTail() {
        super("torn-wal-tail",
                "WAL tail torn between a SIGKILL and the restart: fast restart, wal verify names the record, nothing acknowledged missing");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        try (IntakeNode a = ctx.intake(dir, "intake-a", topic, IntakeNode.SMALL_WAL);
             AckTimeline timeline = new AckTimeline()) {
            a.start();
            try (LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("torn", a.address(), 3, 20))) {
                timeline.watch(agents.ackLog());
                Thread.sleep(6000);
                a.kill();
                long killedAt = System.currentTimeMillis();
                Path walDir = a.dataDir().resolve("wal");
                Path segment = WalDamage.tearTail(walDir, IntakeNode.SMALL_WAL.get("rollCycle"), 1L << 20);
                Path verifyOut = dir.resolve("wal-verify.txt");
                ChildProcess verify = ChildProcess.start("wal-verify", ctx.home().command(List.of(),
                        List.of("wal", "verify", "--data", a.dataDir().toString())), verifyOut, Map.of());
                int verifyExit = verify.awaitExit(120);
                String report = Files.readString(verifyOut);
                String named = report.lines().filter(l -> l.startsWith("CORRUPT")).findFirst().orElse("");
                r.fact("wal verify", "exit " + verifyExit + ": " + named);
                r.check(verifyExit == 1, "wal verify exited " + verifyExit + " on a damaged WAL: " + report);
                r.check(named.contains(segment.getFileName().toString()) && named.contains("index="),
                        "wal verify did not name the damaged record's segment and index: " + report);
                long readyMs = a.start();
                r.recoveryMillis = System.currentTimeMillis() - killedAt;
                r.fact("restart-to-ready ms", readyMs);
                r.check(readyMs < 10_000, "the restart after the damage took " + readyMs + " ms");
                timeline.awaitAckAfter(System.currentTimeMillis(), 3000); // the agents are back
                ctx.verifyDelivery(r, topic, List.of(agents), timeline);
                r.check(agents.ackedBatches().stream().noneMatch(l -> l.startsWith(WalDamage.AGENT + " ")),
                        "the damaged batch was acknowledged");
                r.check(a.metric("holdfast_forwarder_corrupt_records_skipped_total") >= 1,
                        "the forwarder did not report skipping the damaged record");
            }
        }
    }
}
