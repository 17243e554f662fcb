package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.IntakePair;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** 1. Intake SIGKILL under load, repeatedly, spread over both nodes; agents fail over to the other node and back. */
public final class IntakeKills extends Scenario {
    private static final int KILLS = 20;

    public IntakeKills() {
        super("intake-kills",
                KILLS + "+ SIGKILLs of the two intakes at random moments under load: agents fail over, nothing acknowledged is lost");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        Random random = ctx.random(name());
        String topic = ctx.topic(name());
        int kills = ctx.times(KILLS);
        try (IntakePair nodes = IntakePair.start(ctx, dir, topic);
             AckTimeline timeline = new AckTimeline()) {
            IntakeNode a = nodes.a();
            IntakeNode b = nodes.b();
            // long enough for every kill and restart; the agents then drain and exit on their own
            LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("kills", nodes.targets(), 4, 15));
            timeline.watch(agents.ackLog());
            List<Long> restartMillis = new ArrayList<>();
            List<Long> killedAt = new ArrayList<>();
            int killedA = 0;
            try (agents) {
                Thread.sleep(3000);
                for (int k = 0; k < kills; k++) {
                    Thread.sleep(300 + random.nextInt(1200));
                    // alternate so both nodes die often; a random extra kill of the same node now and then
                    IntakeNode victim = (k % 2 == 0) == (random.nextInt(5) != 0) ? a : b;
                    victim.kill();
                    killedAt.add(System.currentTimeMillis());
                    if (victim == a) {
                        killedA++;
                    }
                    restartMillis.add(victim.start());
                }
                ctx.log("%s: %d kills (%d of intake-a), restart-to-ready ms %s", name(), kills, killedA, restartMillis);
                r.check(agents.process().alive(), "the agents died during the kills: " + agents.process().logTail(500));
                timeline.awaitAckAfter(killedAt.get(killedAt.size() - 1), 5000); // the last kill's recovery, seen
                // recovery: the longest any kill kept every agent from getting an ack
                r.recoveryMillis = killedAt.stream().mapToLong(timeline::firstAckAfter).max().orElse(-1);
                ctx.verifyDelivery(r, topic, List.of(agents), timeline);
            }
            r.fact("kills", kills + " (intake-a " + killedA + ", intake-b " + (kills - killedA) + ")");
            r.fact("max restart ms", restartMillis.stream().mapToLong(Long::longValue).max().orElse(0));
            r.check(killedA > 0 && killedA < kills, "the kills did not hit both nodes");
        }
    }
}
