package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.broker.KafkaCluster;
import dev.holdfast.forwarder.kafka.TopicAudit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * 12. Poison records in the middle of a stream under load, on the 3-broker cluster. Once the intake's forwarder has
 * created its topic (and read its 1 MiB limit), an operator lowers the topic's {@code max.message.bytes} to
 * 300,000 and makes it store records uncompressed, so the broker checks their full size; one agent then sends
 * batches of a single 400 KB event among four agents sending small ones. The intake acknowledged those (they were
 * within the limit it knew); Kafka refuses them for good. Each must be dead-lettered exactly once (in the
 * dead-letter topic), every other acknowledged event must arrive, and forwarding must not stall: the lag settles and
 * the circuit breaker stays closed.
 */
public final class PoisonRecord extends Scenario {
    private static final int POISON_BYTES = 400_000;
    private static final int TOPIC_LIMIT = 300_000;
    private static final int LOAD_SECONDS = 15;
    /** How soon after the load the forwarder must have confirmed every record, the poison ones included. */
    private static final long FORWARDED_WITHIN_MS = 15_000;
    /** Blocks large enough for a 400 KB batch in one record (a quarter of a block). */
    private static final Map<String, String> WAL = Map.of("blockSize", "4MiB", "rollCycle", "FIVE_MINUTELY",
            "minFreeBytes", "64MiB", "maxBytes", "4GiB");

    public PoisonRecord() {
        super("poison-record",
                "400 KB events the topic refuses for good, among small ones under load: each dead-lettered once, "
                + "everything else arrives, forwarding never stalls");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        KafkaCluster cluster = ctx.cluster();
        try (IntakeNode intake = new IntakeNode(ctx.home(), "intake-a", dir, dir.resolve("intake-a-data"),
                cluster.bootstrap(), topic, WAL);
             AckTimeline timeline = new AckTimeline();
             Admin admin = cluster.admin()) {
            intake.start();
            awaitTopic(admin, topic);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                    new AlterConfigOp(new ConfigEntry("max.message.bytes", String.valueOf(TOPIC_LIMIT)),
                            AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("compression.type", "uncompressed"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            ctx.log("%s: topic %s now refuses records over %d bytes", name(), topic, TOPIC_LIMIT);

            LoadAgents normal = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("normal", intake.address(), 4, 25));
            LoadAgents poison = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("poison", intake.address(), 1, 1).withEvents(1, POISON_BYTES));
            timeline.watch(normal.ackLog());
            try (normal; poison) {
                Thread.sleep(ctx.seconds(LOAD_SECONDS) * 1000L);
                poison.finish();
                Thread.sleep(3000); // normal load goes on after the last poison batch
                r.check(intake.alive(), "the intake died");

                List<String> poisonBatches = poison.ackedBatches();
                Set<String> poisonEvents = poison.ackedEventIds(poisonBatches);
                ctx.verifyDelivery(r, cluster.bootstrap(), topic, List.of(normal, poison), timeline,
                        new HashSet<>(poisonBatches), Duration.ofSeconds(90));
                r.fact("poison events acknowledged", poisonEvents.size());
                r.check(!poisonEvents.isEmpty(), "no poison event was acknowledged: the scenario proved nothing");

                // forwarding did not stall behind the poison records: everything the WAL holds is confirmed, so
                // every copy the forwarder sent, to either topic, is in Kafka by now
                double lag = intake.awaitForwarded(FORWARDED_WITHIN_MS);
                r.fact("forwarder lag at the end (records)", (long) lag);
                r.check(lag == 0, "forwarding stalled behind the poison records: lag " + lag + " "
                        + FORWARDED_WITHIN_MS / 1000 + " s after the load ended");

                // each poison event is in the dead-letter topic exactly once, and none reached the topic
                try (TopicAudit dlq = new TopicAudit(cluster.bootstrap(), topic + ".dlq");
                     TopicAudit main = new TopicAudit(cluster.bootstrap(), topic)) {
                    dlq.readUntil(poisonEvents, Duration.ofSeconds(60));
                    long missing = poisonEvents.stream().filter(id -> dlq.copies(id) == 0).count();
                    long twice = poisonEvents.stream().filter(id -> dlq.copies(id) > 1).count();
                    r.check(main.readToEnd(Duration.ofSeconds(60)), "could not read " + topic + " to its end");
                    long inTopic = poisonEvents.stream().filter(id -> main.copies(id) > 0).count();
                    r.fact("poison events in the dead-letter topic", poisonEvents.size() - missing);
                    r.check(missing == 0, missing + " poison events are not in the dead-letter topic");
                    r.check(twice == 0, twice + " poison events were dead-lettered more than once");
                    r.check(inTopic == 0, inTopic + " poison events reached the topic past its limit");
                }
                double deadLetters = intake.metric("holdfast_forwarder_dead_letters_total");
                r.fact("holdfast_forwarder_dead_letters_total", (long) deadLetters);
                r.check(deadLetters == poisonEvents.size(), "the dead-letter metric says " + deadLetters + " for "
                        + poisonEvents.size() + " poison events");
                r.check(intake.metric("holdfast_forwarder_circuit_state") == 0,
                        "the circuit breaker is not closed: a permanent error counted as an outage");
            }
        }
    }

    /** The forwarder creates the topic at start; the scenario changes it once it is there. */
    private static void awaitTopic(Admin admin, String topic) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (admin.listTopics().names().get(10, TimeUnit.SECONDS).containsAll(Set.of(topic, topic + ".dlq"))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the forwarder did not create " + topic + " within 60 s");
    }
}
