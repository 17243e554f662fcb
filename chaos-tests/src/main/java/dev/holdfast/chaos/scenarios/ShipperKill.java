package dev.holdfast.chaos.scenarios;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ChildProcess;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.MetricsEndpoint;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * 8. The node agent (eBPF shipper) is SIGKILLed while the intake is down and holds events in its disk spool; after
 * both restart, every file operation of all three phases (before, during and after the outage) must be in Kafka.
 */
public final class ShipperKill extends Scenario {
    private static final String AGENT = "chaos-shipper";
    private static final int ITERATIONS = 100;

    public ShipperKill() {
        super("shipper-kill",
                "eBPF shipper SIGKILLed while the intake is down: its restart redelivers the spool, every file operation reaches Kafka");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new Unavailable("the eBPF shipper needs root");
        }
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        Path watched = Files.createDirectories(dir.resolve("watched")).toRealPath();
        Path spool = dir.resolve("spool");
        MetricsEndpoint metrics = new MetricsEndpoint(FreePorts.next());
        List<String> shipperArgs = List.of("shipper", "--intake", "", "--watch", watched.toString(), "--spool",
                spool.toString(), "--agent-id", AGENT, "--metrics-port", Integer.toString(metrics.port()),
                "--source", "ebpf", "--status-interval", "1");
        try (IntakeNode a = ctx.intake(dir, "intake-a", topic, IntakeNode.SMALL_WAL)) {
            a.start();
            List<String> args = new ArrayList<>(shipperArgs);
            args.set(2, a.address());
            List<String> jvm = List.of("-Xmx64m", "-XX:+UseSerialGC");
            ChildProcess shipper = startShipper(ctx, args, jvm, dir, metrics);
            try {
                operate(watched, "a");
                awaitMetric(metrics, "holdfast_shipper_acknowledged_events_total", 5.0 * ITERATIONS, 30);
                a.kill();
                operate(watched, "b");
                awaitMetric(metrics, "holdfast_shipper_spool_pending_events", 5.0 * ITERATIONS, 30);
                r.fact("spooled while the intake was down (events)", (long) metric(metrics,
                        "holdfast_shipper_spool_pending_events"));
                shipper.kill();
                a.start();
                long restartedAt = System.currentTimeMillis();
                shipper = startShipper(ctx, args, jvm, dir, metrics);
                operate(watched, "c");
                awaitMetric(metrics, "holdfast_shipper_acknowledged_events_total", 10.0 * ITERATIONS, 60);
                r.recoveryMillis = System.currentTimeMillis() - restartedAt;
                r.fact("dropped by the shipper", (long) metric(metrics, "holdfast_shipper_dropped_events_total"));
            } finally {
                shipper.close();
            }
        }
        Set<String> expected = new LinkedHashSet<>();
        for (String phase : List.of("a", "b", "c")) {
            for (int i = 0; i < ITERATIONS; i++) {
                String f = phase + i + ".txt";
                String g = phase + i + ".moved";
                expected.addAll(List.of("CREATE " + f, "MODIFY " + f, "CLOSE_WRITE " + f, "RENAME " + f + " -> " + g,
                        "UNLINK " + g));
            }
        }
        Map<String, Integer> copies = new HashMap<>();
        String prefix = watched + "/";
        try (TopicAudit v = new TopicAudit(ctx.kafkaBootstrap(), topic)) {
            long deadline = System.currentTimeMillis() + 60_000;
            do {
                v.drain(Duration.ofSeconds(1));
                copies.clear();
                for (TopicAudit.Seen s : v.seen().values()) {
                    FileEvent f = Event.parseFrom(s.value()).getFile();
                    String key = f.getKind() + " " + relative(prefix, f.getPath())
                            + (f.getNewPath().isEmpty() ? "" : " -> " + relative(prefix, f.getNewPath()));
                    copies.merge(key, s.copies(), Integer::sum);
                }
            } while (!copies.keySet().containsAll(expected) && System.currentTimeMillis() < deadline);
            r.duplicateEvents = v.duplicates();
            r.outOfOrder = v.outOfOrder();
        }
        r.ackedEvents = expected.size();
        for (String key : expected) {
            if (copies.containsKey(key)) {
                r.deliveredEvents++;
            } else {
                r.lostEvents++;
                if (r.lostSample.size() < 10) {
                    r.lostSample.add(key);
                }
            }
        }
        Set<String> unexplained = new LinkedHashSet<>(copies.keySet());
        unexplained.removeAll(expected);
        r.fact("file operations", 3 * ITERATIONS + " x 5 events");
        r.check(r.lostEvents == 0, r.lostEvents + " file events missing from Kafka, e.g. " + r.lostSample);
        r.check(unexplained.isEmpty(), "events nobody caused: " + unexplained.stream().limit(10).toList());
    }

    private static String relative(String prefix, String path) {
        return path.startsWith(prefix) ? path.substring(prefix.length()) : path;
    }

    /** Per iteration: create+write+close f, rename f to g, unlink g: CREATE, MODIFY, CLOSE_WRITE, RENAME, UNLINK. */
    private static void operate(Path dir, String phase) throws IOException {
        for (int i = 0; i < ITERATIONS; i++) {
            Path f = dir.resolve(phase + i + ".txt");
            Files.writeString(f, "event " + i);
            Path g = Files.move(f, dir.resolve(phase + i + ".moved"));
            Files.delete(g);
        }
    }

    private static ChildProcess startShipper(ChaosContext ctx, List<String> args, List<String> jvm, Path dir,
                                             MetricsEndpoint metrics) throws Exception {
        ChildProcess p = ChildProcess.start("shipper", ctx.home().command(jvm, args), dir.resolve("shipper.log"),
                Map.of("MALLOC_ARENA_MAX", "2"));
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (!p.alive()) {
                throw new IOException("shipper exited with " + p.awaitExit(1) + ": " + p.logTail(2000));
            }
            if (metrics.scrape().contains("holdfast_shipper_source_total")) {
                return p;
            }
            Thread.sleep(50);
        }
        p.close();
        throw new IOException("shipper not ready within 60 s: " + p.logTail(2000));
    }

    private static double metric(MetricsEndpoint shipper, String name) throws InterruptedException {
        double v = shipper.metric(name);
        return Double.isNaN(v) ? 0 : v;
    }

    private static void awaitMetric(MetricsEndpoint shipper, String name, double atLeast, int seconds)
            throws Exception {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        double value = 0;
        while (System.currentTimeMillis() < deadline) {
            value = metric(shipper, name);
            if (value >= atLeast) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException(name + " = " + value + ", expected at least " + atLeast + " within " + seconds + " s");
    }
}
