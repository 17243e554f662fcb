package dev.holdfast.cli.bench;

import dev.holdfast.wal.ScanProgress;
import dev.holdfast.forwarder.EventRecords;
import dev.holdfast.forwarder.Forwarder;
import dev.holdfast.forwarder.ForwarderConfig;
import dev.holdfast.forwarder.Producers;
import dev.holdfast.forwarder.WalReplay;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.forwarder.kafka.TopicManager;
import dev.holdfast.forwarder.kafka.TopicSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Forwarder throughput WAL→Kafka against the baseline of a plain idempotent producer (acks=all, the same producer
 * settings) sending the same events from the same WAL to the same broker; rounds interleaved, ratio per round.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Forwarder WAL->Kafka throughput versus a plain idempotent producer, interleaved rounds.")
public final class ForwardBenchCommand implements Callable<Integer> {
    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers")
    String bootstrap;
    @Option(names = "--dir", required = true, description = "Scratch directory (a WAL is built there)")
    Path dir;
    @Option(names = "--events", defaultValue = "1000000", description = "Events in the WAL. Default: ${DEFAULT-VALUE}")
    int events;
    @Option(names = "--batch", defaultValue = "500", description = "Events per batch. Default: ${DEFAULT-VALUE}")
    int batch;
    @Option(names = "--event-bytes", defaultValue = "200", description = "Approximate event size. Default: ${DEFAULT-VALUE}")
    int eventBytes;
    @Option(names = "--rounds", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}")
    int rounds;
    @Option(names = "--partitions", defaultValue = "3", description = "Partitions of every topic. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Override
    public Integer call() throws Exception {
        Path walDir = dir.resolve("wal");
        long lastIndex = buildWal(walDir);
        String run = Long.toString(System.currentTimeMillis(), 36);
        System.out.printf("WAL with %,d events in batches of %d (~%d B each); Kafka %s; topics of %d partitions, "
                + "replication factor min(3, brokers), min.insync.replicas 2 from 3 replicas%n", events, batch,
                eventBytes, bootstrap, partitions);
        // round 0 warms up the JIT and the broker and is not counted; the order alternates so neither side
        // always runs on a colder or a busier machine
        java.util.List<Double> ratios = new java.util.ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
            double plain;
            double forwarded;
            if (round % 2 == 0) {
                plain = plainProducer(walDir, "bench-plain-" + run + "-" + round);
                forwarded = forwarder(walDir, lastIndex, "bench-fwd-" + run + "-" + round, round);
            } else {
                forwarded = forwarder(walDir, lastIndex, "bench-fwd-" + run + "-" + round, round);
                plain = plainProducer(walDir, "bench-plain-" + run + "-" + round);
            }
            System.out.printf("round %d%s: plain producer %,.0f events/s, forwarder %,.0f events/s, ratio %.2f%n",
                    round, round == 0 ? " (warm-up, not counted)" : "", plain, forwarded, forwarded / plain);
            if (round > 0) {
                ratios.add(forwarded / plain);
            }
        }
        ratios.sort(null);
        System.out.printf("median ratio forwarder/plain over %d rounds: %.2f (min %.2f, max %.2f)%n", ratios.size(),
                ratios.get(ratios.size() / 2), ratios.get(0), ratios.get(ratios.size() - 1));
        return 0;
    }

    private long buildWal(Path walDir) throws Exception {
        byte[] pad = "x".repeat(Math.max(0, eventBytes - 60)).getBytes();
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId("fwd-bench").setBatchSeq(1);
        for (int i = 0; i < batch; i++) {
            b.addEvents(Event.newBuilder().setTimeUnixNano(i).putAttributes("pad", new String(pad))
                    .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/var/log/app/" + i)));
        }
        long last = -1;
        try (Wal wal = Wal.open(WalConfig.defaults(walDir, false), CommitListener.NONE)) {
            for (int seq = 1; seq <= events / batch; seq++) {
                byte[] bytes = b.setBatchSeq(seq).build().toByteArray();
                last = wal.append(new BatchHeader("fwd-bench", seq, batch, BatchPriority.NORMAL,
                        System.currentTimeMillis() * 1_000_000L), bytes).get().index();
            }
        }
        return last;
    }

    /**
     * Both sides write to topics created beforehand, the same way (the forwarder's TopicManager, defaults for the
     * cluster's size) and served by their leaders, so neither side's time includes creating one.
     */
    private void createTopics(String... names) throws Exception {
        try (Admin admin = Admin.create(Producers.adminProperties(bootstrap, Map.of()))) {
            TopicManager topics = new TopicManager(admin);
            java.util.List<TopicSpec> specs = java.util.Arrays.stream(names)
                    .map(n -> TopicSpec.withDefaults(n, partitions)).toList();
            TopicManager.Result r = topics.ensure(specs, Duration.ofSeconds(60));
            if (!r.allReady()) {
                throw new IllegalStateException("could not create the benchmark's topics: " + r.outcomes());
            }
            for (String n : names) {
                topics.awaitServing(n, Duration.ofSeconds(60));
            }
        }
    }

    private double plainProducer(Path walDir, String topic) throws Exception {
        createTopics(topic);
        try (WalInspector wal = WalInspector.open(walDir);
             KafkaProducer<byte[], byte[]> producer = Producers.create(bootstrap, "bench-plain", Map.of())) {
            WalReplay.Result r = WalReplay.run(wal, WalReplay.Range.ALL, new EventRecords(topic, "bench"), producer,
                    ScanProgress.NONE);
            return r.events() / r.seconds();
        }
    }

    private double forwarder(Path walDir, long lastIndex, String topic, int round) throws Exception {
        long firstIndex = lastIndex - (events / batch) + 1; // built within seconds: one segment
        try (Wal wal = Wal.open(WalConfig.defaults(walDir, false), CommitListener.NONE)) {
            ForwarderConfig cfg = ForwarderConfig.defaults(bootstrap, topic, "bench", dir.resolve("forwarder-" + round))
                    .withTopicSettings(new ForwarderConfig.TopicSettings(partitions, 0, 0, 0));
            createTopics(topic, cfg.deadLetterTopic());
            long t0 = System.nanoTime();
            try (Forwarder fw = new Forwarder(cfg, wal, new SimpleMeterRegistry()).start()) {
                fw.whenConfirmed(lastIndex).get(10, TimeUnit.MINUTES);
                while (!fw.isConfirmed(firstIndex, lastIndex)) { // every record, not just the last one
                    Thread.sleep(1);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                return (events / batch) * (double) batch / seconds;
            }
        }
    }
}
