package dev.holdfast.chaos.scenarios;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.IntakePair;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * 6. The agents know the intakes only by DNS name, and the names stop resolving (NXDOMAIN) for a while; one intake
 * is even killed and restarted meanwhile. Shipping must go on over the cached addresses, and the agents must not
 * storm the resolver: lookups stay paced by the refresh interval.
 *
 * <p>The agents' JVMs resolve through a hosts file of their own ({@code -Djdk.net.hosts.file}, no caching), so
 * removing the names from it is, to them, exactly a name that stopped resolving, without touching the machine's DNS.
 */
public final class DnsLoss extends Scenario {
    private static final int LOSS_SECONDS = 20;
    private static final int REFRESH_SECONDS = 1;

    public DnsLoss() {
        super("dns-loss",
                "intake names stop resolving for " + LOSS_SECONDS + " s (and an intake restarts meanwhile): shipping continues on cached addresses, lookups stay paced");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        int loss = ctx.seconds(LOSS_SECONDS);
        Path hosts = dir.resolve("hosts");
        String names = "127.0.0.1 intake-a.chaos.test\n127.0.0.1 intake-b.chaos.test\n";
        Files.writeString(hosts, names);
        try (IntakePair nodes = IntakePair.start(ctx, dir, topic);
             AckTimeline timeline = new AckTimeline()) {
            IntakeNode a = nodes.a();
            IntakeNode b = nodes.b();
            int agentsCount = 4;
            LoadAgents.Spec spec = LoadAgents.Spec.of("dns", "intake-a.chaos.test:" + a.grpcPort()
                            + ",intake-b.chaos.test:" + b.grpcPort(), agentsCount, 15)
                    .with(List.of("--dns-refresh", Integer.toString(REFRESH_SECONDS)),
                            List.of("-Djdk.net.hosts.file=" + hosts, "-Dsun.net.inetaddr.ttl=0",
                                    "-Dsun.net.inetaddr.negative.ttl=0"));
            long startedAt = System.currentTimeMillis();
            try (LoadAgents agents = LoadAgents.start(ctx.home(), dir, spec)) {
                timeline.watch(agents.ackLog());
                // the names go only once every agent has resolved them and shipped: a JVM that starts slowly
                // would otherwise first look them up after they are gone, with no address to fall back on
                r.check(agents.awaitEveryAgentAcked(60_000), "an agent shipped nothing before the names were removed");
                Thread.sleep(2000);
                Files.writeString(hosts, "# the intake names are gone\n");
                long lostAt = System.currentTimeMillis();
                long before = agents.ackedCount();
                Thread.sleep(loss * 1000L / 3);
                a.kill(); // its agents must come back to it, or go to b, on addresses cached before the loss
                a.start();
                Thread.sleep(Math.max(0, lostAt + loss * 1000L - System.currentTimeMillis()));
                long during = agents.ackedCount() - before;
                Files.writeString(hosts, names);
                long restoredAt = System.currentTimeMillis();
                r.fact("DNS down s", (System.currentTimeMillis() - lostAt) / 1000);
                r.fact("acks while DNS was down (batches)", during);
                r.check(during > 0, "shipping stopped while DNS was down");
                timeline.awaitAckAfter(restoredAt, 3000);
                ctx.verifyDelivery(r, topic, List.of(agents), timeline);
                JsonNode rep = agents.report();
                long lookups = rep.path("dnsLookups").asLong();
                long failed = rep.path("dnsLookupFailures").asLong();
                // paced: at most one lookup per name per agent per refresh interval (plus one per reconnect)
                long ranSeconds = (System.currentTimeMillis() - startedAt) / 1000;
                long bound = (long) agentsCount * 2 * (ranSeconds / REFRESH_SECONDS + 5);
                r.fact("DNS lookups", lookups + " (" + failed + " failed; bound " + bound + ")");
                r.check(failed > 0, "the names never failed to resolve: the injection did not work");
                r.check(lookups <= bound, "lookup storm: " + lookups + " lookups > " + bound);
            } finally {
                Files.writeString(hosts, names);
            }
        }
    }
}
