package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.broker.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * 10. A real 3-broker cluster ({@link KafkaCluster}, each broker its own process) behind one intake; the topic has
 * 3 partitions, 3 replicas, min.insync.replicas=2. Under load the leader of partition 0 is SIGKILLed and restarted,
 * then two brokers at once are SIGKILLed (writes to Kafka must stop: one replica is fewer than min ISR, and the
 * controller quorum is gone) and restarted together. At fsync durability the intake keeps acknowledging throughout;
 * afterwards every acknowledged event is in the topic.
 */
public final class BrokerLoss extends Scenario {
    private static final int PARTITIONS = 3;
    private static final int LEADER_DOWN_SECONDS = 12;
    private static final int TWO_DOWN_SECONDS = 20;
    /** After a kill, how long sends already in flight may still be answered. */
    private static final long SETTLE_MILLIS = 2000;
    /** Events the forwarder counts when Kafka acknowledges them, both lanes. */
    private static final String CONFIRMED = "holdfast_forwarder_sent_events_total";
    /** Lag (records) that counts as drained while live load keeps arriving. */
    private static final double LAG_SETTLED = 50;

    public BrokerLoss() {
        super("broker-loss",
                "3-broker cluster (RF 3, min ISR 2) under load: partition leader SIGKILLed and restarted, then two "
                + "brokers down at once; the intake keeps acknowledging, every acknowledged event ends up in Kafka");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        Random random = ctx.random(name());
        long t0 = System.nanoTime();
        KafkaCluster cluster = ctx.cluster();
        {
            r.fact("cluster start ms (0: already up for another scenario)", ms(t0));
            // the forwarder does not create topics: the scenario does, with the replication it is about
            try (Admin admin = cluster.admin()) {
                admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            }
            awaitFullIsr(cluster, topic);

            try (IntakeNode intake = new IntakeNode(ctx.home(), "intake-a", dir, dir.resolve("intake-a-data"),
                    cluster.bootstrap(), topic, IntakeNode.SMALL_WAL);
                 AckTimeline timeline = new AckTimeline()) {
                intake.start();
                LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                        LoadAgents.Spec.of("brokerloss", intake.address(), 4, 25));
                timeline.watch(agents.ackLog());
                try (agents) {
                    r.check(agents.awaitEveryAgentAcked(60_000), "an agent shipped nothing before the fault");
                    Thread.sleep(2000);
                    List<Long> faultsEnded = new ArrayList<>();

                    // 1. the leader of partition 0 crashes: the others take over within the broker session (6 s)
                    int leader = cluster.leader(topic, 0);
                    long before = agents.ackedCount();
                    cluster.kill(leader);
                    ctx.log("%s: leader of %s-0, broker %d, SIGKILLed", name(), topic, leader);
                    Thread.sleep(ctx.seconds(LEADER_DOWN_SECONDS) * 1000L);
                    r.fact("leader killed (broker)", leader);
                    r.fact("new leader of partition 0", cluster.leader(topic, 0));
                    r.fact("acked while the leader was down (batches)", agents.ackedCount() - before);
                    r.check(agents.ackedCount() > before, "the intake stopped acknowledging while one broker was down");
                    long t1 = System.nanoTime();
                    cluster.start(leader);
                    faultsEnded.add(System.currentTimeMillis());
                    r.fact("broker restart ms", ms(t1));
                    awaitFullIsr(cluster, topic);
                    r.fact("restarted broker back in every ISR ms", ms(t1));

                    // 2. two brokers at once: one replica left, fewer than min.insync.replicas, and no quorum
                    List<Integer> down = new ArrayList<>(cluster.ids());
                    down.remove(random.nextInt(down.size()));
                    long before2 = agents.ackedCount();
                    for (int id : down) {
                        cluster.kill(id);
                    }
                    ctx.log("%s: brokers %s SIGKILLed", name(), down);
                    // Kafka's confirmations (the forwarder counts events when Kafka acknowledges them) must stop once
                    // the sends in flight at the kill are answered: one replica is below min.insync.replicas
                    Thread.sleep(SETTLE_MILLIS);
                    double confirmedBefore = intake.metric(CONFIRMED);
                    Thread.sleep(ctx.seconds(TWO_DOWN_SECONDS) * 1000L - SETTLE_MILLIS);
                    double confirmedDown = intake.metric(CONFIRMED) - confirmedBefore;
                    r.fact("two brokers down (ids)", down.toString());
                    r.fact("acked while two brokers were down (batches)", agents.ackedCount() - before2);
                    r.fact("events Kafka confirmed with two brokers down", (long) confirmedDown);
                    r.check(agents.ackedCount() > before2, "the intake stopped acknowledging while two brokers were down");
                    r.check(confirmedDown == 0, "Kafka confirmed " + confirmedDown + " events with one broker of three "
                            + "(below min.insync.replicas=2)");
                    long t2 = System.nanoTime();
                    cluster.start(down);
                    long returnedAt = System.currentTimeMillis();
                    faultsEnded.add(returnedAt);
                    r.fact("two brokers restart ms", ms(t2));
                    awaitFullIsr(cluster, topic);
                    r.fact("both back in every ISR ms", ms(t2));
                    intake.awaitLag(LAG_SETTLED, 120_000);
                    long drainedAt = System.currentTimeMillis();
                    r.fact("backlog drained ms after return", drainedAt - returnedAt);
                    r.check(intake.alive(), "the intake died while brokers were lost");

                    ctx.verifyDelivery(r, cluster.bootstrap(), topic, List.of(agents), timeline, Set.of(),
                            Duration.ofSeconds(120));
                    r.recoveryMillis = faultsEnded.stream().mapToLong(timeline::firstAckAfter).max().orElse(-1);
                }
            }
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void awaitFullIsr(KafkaCluster cluster, String topic) throws Exception {
        for (int p = 0; p < PARTITIONS; p++) {
            cluster.awaitIsr(topic, p, 3, Duration.ofSeconds(90));
        }
    }
}
