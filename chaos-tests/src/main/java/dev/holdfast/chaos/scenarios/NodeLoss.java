package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.broker.KafkaCluster;
import dev.holdfast.forwarder.kafka.TopicAudit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * 11. Node loss at {@code replicated} durability: two intakes forward to the 3-broker cluster (RF 3, min ISR 2) and
 * acknowledge only what Kafka confirmed. First two brokers are SIGKILLed at once: with one replica, fewer than
 * min ISR, acknowledgements must pause (none after the in-flight ones settle) and resume once both are back. Then,
 * under load, intake A is SIGKILLed and its data directory deleted, as when a node and its disk are gone for good;
 * the agents fail over to B. Every batch A acknowledged must be in Kafka (its WAL no longer exists to forward
 * anything), as must everything B acknowledged.
 */
public final class NodeLoss extends Scenario {
    private static final int LOAD_BEFORE_SECONDS = 10;
    private static final int LOAD_AFTER_SECONDS = 8;
    private static final int TWO_DOWN_SECONDS = 10;
    /** After the kill, how long acknowledgements of writes Kafka confirmed just before may still arrive. */
    private static final long SETTLE_MILLIS = 2000;

    public NodeLoss() {
        super("node-loss",
                "replicated durability on a 3-broker cluster: an intake SIGKILLed and its data directory deleted under "
                + "load; every batch it acknowledged is in Kafka");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        KafkaCluster cluster = ctx.cluster();
        try (IntakeNode a = new IntakeNode(ctx.home(), "intake-a", dir, dir.resolve("intake-a-data"),
                cluster.bootstrap(), topic, IntakeNode.SMALL_WAL, "replicated");
             IntakeNode b = new IntakeNode(ctx.home(), "intake-b", dir, dir.resolve("intake-b-data"),
                     cluster.bootstrap(), topic, IntakeNode.SMALL_WAL, "replicated");
             AckTimeline timeline = new AckTimeline()) {
            a.spawn();
            b.spawn();
            a.awaitReady();
            b.awaitReady();
            LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("nodeloss", a.address() + "," + b.address(), 4, 20));
            timeline.watch(agents.ackLog());
            try (agents) {
                Thread.sleep(ctx.seconds(LOAD_BEFORE_SECONDS) * 1000L / 2);
                twoBrokersDown(ctx, r, cluster, agents, timeline);
                Thread.sleep(ctx.seconds(LOAD_BEFORE_SECONDS) * 1000L / 2);
                a.kill();
                long killedAt = System.currentTimeMillis();
                List<String> ackedByTheLostNode = agents.ackedBatches(); // includes some B acked: all must be there
                deleteTree(a.dataDir());
                ctx.log("%s: intake-a SIGKILLed and %s deleted after %d acknowledged batches", name(), a.dataDir(),
                        ackedByTheLostNode.size());
                r.fact("batches acknowledged before the node was lost", ackedByTheLostNode.size());
                r.check(!Files.exists(a.dataDir()), "the lost node's data directory still exists");
                Thread.sleep(ctx.seconds(LOAD_AFTER_SECONDS) * 1000L);
                r.check(b.alive(), "intake-b died");
                r.fact("batches acknowledged after the loss (by intake-b)",
                        agents.ackedCount() - ackedByTheLostNode.size());
                r.check(agents.ackedCount() > ackedByTheLostNode.size(), "the agents did not fail over to intake-b");
                r.recoveryMillis = timeline.firstAckAfter(killedAt);

                Map<String, TopicAudit.Seen> seen = ctx.verifyDelivery(r, cluster.bootstrap(), topic,
                        List.of(agents), timeline, Set.of(), Duration.ofSeconds(90));
                long missingFromLostNode = agents.ackedEventIds(ackedByTheLostNode).stream()
                        .filter(id -> !seen.containsKey(id)).count();
                r.fact("events acknowledged before the loss missing from Kafka", missingFromLostNode);
                r.check(missingFromLostNode == 0, missingFromLostNode + " events acknowledged (replicated) by the lost "
                        + "node are not in Kafka");
            }
        }
    }

    /** Two of three brokers down: a replicated intake must stop acknowledging, then resume once they are back. */
    private void twoBrokersDown(ChaosContext ctx, ScenarioResult r, KafkaCluster cluster, LoadAgents agents,
                                AckTimeline timeline) throws Exception {
        List<Integer> down = new java.util.ArrayList<>(cluster.ids());
        down.remove(ctx.random(name()).nextInt(down.size()));
        for (int id : down) {
            cluster.kill(id);
        }
        ctx.log("%s: brokers %s SIGKILLed (one replica left, min ISR 2)", name(), down);
        Thread.sleep(SETTLE_MILLIS);
        long before = agents.ackedCount();
        Thread.sleep(ctx.seconds(TWO_DOWN_SECONDS) * 1000L - SETTLE_MILLIS);
        long during = agents.ackedCount() - before;
        r.fact("batches acknowledged with two brokers down (after 2 s)", during);
        r.check(during == 0, during + " batches were acknowledged at replicated durability while Kafka could not "
                + "replicate them (one broker of three, min ISR 2)");
        cluster.start(down);
        long backAt = System.currentTimeMillis();
        long firstAck = -1;
        long deadline = backAt + 90_000;
        while (firstAck < 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            firstAck = timeline.firstAckAfter(backAt);
        }
        r.fact("first acknowledgement after the brokers returned, ms", firstAck);
        r.check(firstAck >= 0, "acknowledgements did not resume within 90 s of the brokers' return");
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
