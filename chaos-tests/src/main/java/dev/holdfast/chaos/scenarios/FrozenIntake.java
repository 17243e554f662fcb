package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.IntakePair;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;

import java.nio.file.Path;
import java.util.List;

/**
 * 5. An intake frozen with SIGSTOP for longer than the agents' ack timeout (20 s), then SIGCONT: the agents give up
 * on it and resend their window to the other node; the thawed node persists what it had half-received. Duplicates
 * are bounded by that window; nothing is lost.
 */
public final class FrozenIntake extends Scenario {
    /** The agents' ack timeout is 20 s; frozen longer than that, a node must be given up on. */
    private static final int FREEZE_SECONDS = 25;

    public FrozenIntake() {
        super("frozen-intake",
                "intake SIGSTOPped " + FREEZE_SECONDS + " s (> ack timeout) then SIGCONT: failover, duplicates within the resend window, no loss");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        int freeze = ctx.seconds(FREEZE_SECONDS);
        try (IntakePair nodes = IntakePair.start(ctx, dir, topic);
             AckTimeline timeline = new AckTimeline()) {
            IntakeNode a = nodes.a();
            LoadAgents.Spec spec = LoadAgents.Spec.of("frozen", nodes.targets(), 4, 15);
            try (LoadAgents agents = LoadAgents.start(ctx.home(), dir, spec)) {
                timeline.watch(agents.ackLog());
                r.check(agents.awaitEveryAgentAcked(60_000), "an agent shipped nothing before the fault");
                Thread.sleep(2000);
                a.freeze();
                long frozenAt = System.currentTimeMillis();
                Thread.sleep(freeze * 1000L);
                a.thaw();
                r.fact("frozen s", (System.currentTimeMillis() - frozenAt) / 1000);
                Thread.sleep(5000);
                // the duplicates are bounded below: counted once both intakes have forwarded all they hold
                agents.finish();
                agents.awaitExit(180);
                for (IntakeNode node : List.of(a, nodes.b())) {
                    double lag = node.awaitForwarded(60_000);
                    r.check(lag == 0, node.id() + " still had " + lag + " records to forward 60 s after the load");
                }
                ctx.verifyDelivery(r, topic, List.of(agents), timeline);
                r.check(nodes.bothAlive(), "an intake died after the freeze");
            }
            // each agent may resend at most its window of unacknowledged batches per failover
            long window = (long) spec.agents() * spec.window() * spec.batchEvents();
            r.fact("duplicate bound (agents x window x batch)", window);
            r.check(r.duplicateEvents <= window, "duplicates " + r.duplicateEvents + " exceed the resend window " + window);
        }
    }
}
