package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.IntakePair;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.forwarder.kafka.TopicAudit;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.stream.LongStream;

/**
 * 2. The Kafka broker is SIGKILLed for 60 s under load: the intakes keep acknowledging into their WALs, then drain
 * the backlog; batches acknowledged after the broker returned (live) are measured against the backlog's drain.
 */
public final class KafkaOutage extends Scenario {
    private static final int OUTAGE_SECONDS = 60;
    /** Lag (records) of one intake that counts as drained while live load keeps arriving: well under a second of it. */
    private static final double LAG_SETTLED = 50;

    public KafkaOutage() {
        super("kafka-outage",
                "Kafka broker down " + OUTAGE_SECONDS + " s under load: intakes keep acknowledging, backlog drains after, live data first");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        int outage = ctx.seconds(OUTAGE_SECONDS);
        try (IntakePair nodes = IntakePair.start(ctx, dir, topic);
             AckTimeline timeline = new AckTimeline()) {
            IntakeNode a = nodes.a();
            IntakeNode b = nodes.b();
            LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("outage", nodes.targets(), 4, 25));
            timeline.watch(agents.ackLog());
            try (agents) {
                r.check(agents.awaitEveryAgentAcked(60_000), "an agent shipped nothing before the fault");
                Thread.sleep(2000);
                long before = agents.ackedCount();
                ctx.kafka().kill();
                ctx.log("%s: broker SIGKILLed for %d s", name(), outage);
                Thread.sleep(outage * 1000L);
                long atReturn = agents.ackedCount();
                double lagAtReturn = lag(a, b);
                long returnedAt = System.currentTimeMillis();
                ctx.kafka().start();
                long brokerReadyMs = System.currentTimeMillis() - returnedAt;
                long drainDeadline = System.currentTimeMillis() + 120_000;
                a.awaitLag(LAG_SETTLED, 120_000);
                b.awaitLag(LAG_SETTLED, Math.max(0, drainDeadline - System.currentTimeMillis()));
                long drainedMs = System.currentTimeMillis() - returnedAt;
                r.fact("acked during outage (batches)", atReturn - before);
                r.fact("WAL backlog at broker return (records)", (long) lagAtReturn);
                r.fact("broker restart ms", brokerReadyMs);
                r.fact("backlog drained ms after return", drainedMs);
                r.check(atReturn - before > 0, "the intakes stopped acknowledging while Kafka was down");
                r.check(nodes.bothAlive(), "an intake died during the Kafka outage");
                // the live load to compare with the backlog: what was acknowledged after the return, while it drained

                Map<String, TopicAudit.Seen> seen = ctx.verifyDelivery(r, topic, List.of(agents), timeline);
                // live first: batches acknowledged after the broker returned vs the backlog acknowledged during the outage
                List<String> batches = agents.ackedBatches();
                List<String> live = batches.subList((int) atReturn, batches.size());
                OptionalLong backlogLast = arrivals(seen, agents.ackedEventIds(batches.subList((int) before,
                        (int) atReturn))).max();
                OptionalLong liveFirst = arrivals(seen, agents.ackedEventIds(live)).min();
                if (backlogLast.isPresent() && liveFirst.isPresent()) {
                    r.fact("first live event in Kafka, ms after return", liveFirst.getAsLong() - returnedAt);
                    r.fact("last backlog event in Kafka, ms after return", backlogLast.getAsLong() - returnedAt);
                    r.fact("live before backlog finished", liveFirst.getAsLong() < backlogLast.getAsLong());
                }
                r.fact("batches acked after return", live.size());
            }
        }
    }

    /** When each of these events first reached Kafka (those that did). */
    private static LongStream arrivals(Map<String, TopicAudit.Seen> seen, Collection<String> ids) {
        return ids.stream().map(seen::get).filter(Objects::nonNull).mapToLong(TopicAudit.Seen::firstTimestampMillis);
    }

    /** Records in both intakes' WALs not yet confirmed by Kafka. */
    private static double lag(IntakeNode a, IntakeNode b) throws InterruptedException {
        return a.metric("holdfast_forwarder_lag_records") + b.metric("holdfast_forwarder_lag_records");
    }
}
