package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.IntakePair;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.chaos.harness.TcpProxy;

import java.nio.file.Path;
import java.util.List;

/**
 * 3. Network partitions: the link to one intake drops every connection for 3 s; then agents cut off from both intakes (blackhole, then heal: they keep their unacknowledged
 * batches and redeliver), then the intakes cut off from Kafka (blackhole, then 100 ms latency per chunk: the intakes
 * keep acknowledging, the forwarders catch up).
 */
public final class Partitions extends Scenario {
    public Partitions() {
        super("partitions",
                "agent↔intake blackhole then heal; intake↔Kafka blackhole then latency: redelivered, nothing lost");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        int cut = ctx.seconds(10);
        try (IntakePair nodes = IntakePair.start(ctx, dir, topic);
             AckTimeline timeline = new AckTimeline()) {
            IntakeNode a = nodes.a();
            IntakeNode b = nodes.b();
            try (TcpProxy pa = new TcpProxy("agents-a", 0, a.grpcPort());
                 TcpProxy pb = new TcpProxy("agents-b", 0, b.grpcPort());
                 LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                         LoadAgents.Spec.of("partition", pa.address() + "," + pb.address(), 4, 15))) {
                timeline.watch(agents.ackLog());
                Thread.sleep(4000);
                // connections reset and refused for a moment: agents fail over to b and come back
                pa.drop();
                Thread.sleep(3000);
                pa.heal();
                r.fact("connections to proxy a so far (refused ones included)", pa.connectionsAccepted());
                pa.blackhole();
                pb.blackhole();
                long cutAt = System.currentTimeMillis();
                long before = agents.ackedCount();
                Thread.sleep(cut * 1000L);
                long during = agents.ackedCount() - before;
                pa.heal();
                pb.heal();
                long healedAt = System.currentTimeMillis();
                long resumeMs = timeline.awaitAckAfter(healedAt, 4000);
                r.recoveryMillis = resumeMs;
                r.fact("agent partition s", (healedAt - cutAt) / 1000);
                r.fact("acks while agents were cut off", during);
                r.check(resumeMs >= 0, "no acknowledgement after the agent partition healed");

                ctx.kafkaProxy().blackhole();
                long kBefore = agents.ackedCount();
                Thread.sleep(cut * 1000L);
                long kDuring = agents.ackedCount() - kBefore;
                ctx.kafkaProxy().heal();
                ctx.kafkaProxy().latency(100);
                Thread.sleep(cut * 1000L);
                ctx.kafkaProxy().latency(0);
                r.fact("acks while intakes were cut off from Kafka", kDuring);
                r.check(kDuring > 0, "the intakes stopped acknowledging while Kafka was unreachable");
                ctx.verifyDelivery(r, topic, List.of(agents), timeline);
            } finally {
                ctx.kafkaProxy().heal();
                ctx.kafkaProxy().latency(0);
            }
        }
    }
}
