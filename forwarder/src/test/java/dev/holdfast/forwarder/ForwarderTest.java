package dev.holdfast.forwarder;

import dev.holdfast.wal.ScanProgress;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.testkit.ManualClock;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalSegment;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The forwarder against a real single-node Kafka broker running as its own process. */
class ForwarderTest {
    @TempDir
    static Path brokerDir;
    static KafkaBrokerProcess broker;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBrokerProcess(brokerDir.resolve("kafka"), 0);
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    static byte[] batch(String agent, long seq, int events) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(seq);
        for (int i = 0; i < events; i++) {
            b.addEvents(Event.newBuilder().setTimeUnixNano(seq * 1000 + i)
                    .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/srv/" + seq + "/" + i)));
        }
        return b.build().toByteArray();
    }

    private List<CompletableFuture<AppendResult>> append(Wal wal, String agent, long fromSeq, int batches, int events) {
        return append(wal, Clock.systemUTC(), agent, fromSeq, batches, events);
    }

    /** @param clock gives the batches' receive times, from which the forwarder's clock tells their age */
    private List<CompletableFuture<AppendResult>> append(Wal wal, Clock clock, String agent, long fromSeq, int batches,
                                                         int events) {
        List<CompletableFuture<AppendResult>> out = new ArrayList<>();
        for (long seq = fromSeq; seq < fromSeq + batches; seq++) {
            out.add(wal.append(new BatchHeader(agent, seq, events, BatchPriority.NORMAL,
                    clock.millis() * 1_000_000L), batch(agent, seq, events)));
        }
        return out;
    }

    private ForwarderConfig config(String topic) {
        return ForwarderConfig.defaults(broker.bootstrap(), topic, "node-t", tmp.resolve("progress"));
    }

    /** A forwarder that tells time by {@code clock}. */
    private static Forwarder forwarder(ForwarderConfig config, Wal wal, SimpleMeterRegistry registry, Clock clock) {
        return new Forwarder(config, wal, registry, clock, new ForwardLimit(config.producerProperties(),
                config.nodeId(), config.topic(), config.encoding()));
    }

    @Test
    void everyEventArrivesWithItsIdAndExactBytes() throws Exception {
        String topic = "t-basic";
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            // a backlog from before the forwarder started, then live appends
            for (var f : append(wal, "a", 1, 100, 20)) f.get();
            try (Forwarder fw = new Forwarder(config(topic), wal, new SimpleMeterRegistry()).start();
                 TopicAudit reader = new TopicAudit(broker.bootstrap(), topic)) {
                List<CompletableFuture<AppendResult>> live = append(wal, "b", 1, 100, 20);
                long lastIndex = live.get(99).get().index();
                fw.whenConfirmed(lastIndex).get(60, TimeUnit.SECONDS);
                assertEquals(4000, reader.readUntil(4000, Duration.ofSeconds(60)));
                assertEquals(0, reader.duplicates());
                EventBatch sent = EventBatch.parseFrom(batch("b", 7, 20));
                assertArrayEquals(sent.getEvents(3).toByteArray(), reader.value("b/7/3"));
                fw.whenConfirmedThrough(lastIndex).get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void damageUnderARunningIntakeHoldsNothingBack() throws Exception {
        String topic = "t-damage";
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE)) {
            for (var f : append(wal, "d", 1, 300, 5)) f.get();
            // while the WAL is open, before anything is forwarded: a flipped "not complete" flag on batch 100 (the
            // record is intact) and a 600-byte random block from inside batch 200 on
            java.nio.file.Path segment;
            try (var files = java.nio.file.Files.list(tmp.resolve("wal"))) {
                segment = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
            }
            byte[] file = java.nio.file.Files.readAllBytes(segment);
            long[][] spans = new long[301][];
            for (int seq = 1; seq <= 300; seq++) {
                byte[] body = batch("d", seq, 5);
                long payloadAt = indexOf(file, body);
                spans[seq] = new long[]{payloadAt - 4 - 30 - 1 - 4, payloadAt + body.length};
            }
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(segment.toFile(), "rw")) {
                f.seek(spans[100][0] + 3);
                int b = f.read();
                f.seek(spans[100][0] + 3);
                f.write(b | 0x80);
                byte[] junk = new byte[600];
                new java.util.Random(5).nextBytes(junk);
                f.seek(spans[200][0] + 40);
                f.write(junk);
            }
            long blockFrom = spans[200][0] + 40;
            java.util.Set<Integer> destroyed = new java.util.HashSet<>();
            for (int seq = 1; seq <= 300; seq++) {
                if (spans[seq][0] < blockFrom + 600 && blockFrom < spans[seq][1]) destroyed.add(seq);
            }
            try (Forwarder fw = new Forwarder(config(topic), wal, new SimpleMeterRegistry()).start();
                 TopicAudit reader = new TopicAudit(broker.bootstrap(), topic)) {
                List<CompletableFuture<AppendResult>> live = append(wal, "d", 301, 50, 5);
                int expected = (350 - destroyed.size()) * 5;
                assertEquals(expected, reader.readUntil(expected, Duration.ofSeconds(90)),
                        "every event of every intact batch reaches Kafka, " + destroyed + " destroyed");
                for (int seq = 1; seq <= 350; seq++) {
                    if (!destroyed.contains(seq)) {
                        assertNotNull(reader.value("d/" + seq + "/4"), "batch " + seq + " never forwarded");
                    }
                }
                // past the damaged range the lanes number records themselves: an ack waiting on such an index is
                // refused rather than released by some other record's confirmation
                long afterDamage = live.get(49).get().index();
                var refused = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> fw.whenConfirmed(afterDamage).get(10, TimeUnit.SECONDS));
                assertInstanceOf(IllegalStateException.class, refused.getCause());
            }
        }
    }

    private static long indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("batch not found in the segment");
    }

    @Test
    void waitsOutABrokerOutageAndDeliversEverythingAfter() throws Exception {
        String topic = "t-outage";
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ManualClock clock = new ManualClock(); // the receive times' and the forwarder's
        try (Wal wal = Wal.open(WalConfig.defaults(tmp.resolve("wal"), false), CommitListener.NONE);
             Forwarder fw = forwarder(config(topic), wal, registry, clock).start()) {
            for (var f : append(wal, clock, "o", 1, 50, 10)) f.get();
            broker.kill();
            try {
                // the WAL keeps accepting while Kafka is gone
                List<CompletableFuture<AppendResult>> during = append(wal, clock, "o", 51, 100, 10);
                for (var f : during) assertEquals(AppendResult.Status.PERSISTED, f.get(5, TimeUnit.SECONDS).status());
                clock.advance(Duration.ofMinutes(10)); // the outage has lasted ten minutes
                // the metrics show the lag: every batch appended during the outage, and its age; the lanes see the
                // outage through a real producer, so the test waits for them
                double lag = 0;
                double age = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((lag < 100 || age < 600) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                    lag = gauge(registry, "forwarder.lag.records", "live") + gauge(registry, "forwarder.lag.records", "backlog");
                    age = Math.max(gauge(registry, "forwarder.lag.oldest.age.seconds", "live"),
                            gauge(registry, "forwarder.lag.oldest.age.seconds", "backlog"));
                }
                assertTrue(lag >= 100, "lag records " + lag);
                assertTrue(age >= 600, "oldest unforwarded age " + age);
                assertFalse(fw.isConfirmed(during.get(99).get().index()));
                // each of the forwarder's meters says what it is (the HELP line of the scrape)
                List<String> unexplained = registry.getMeters().stream().map(m -> m.getId())
                        .filter(id -> id.getDescription() == null || id.getDescription().isBlank())
                        .map(id -> id.getName()).distinct().toList();
                assertTrue(unexplained.isEmpty(), "meters without a description: " + unexplained);
            } finally {
                broker.restart(); // the other tests share this broker
            }
            for (var f : append(wal, clock, "o", 151, 50, 10)) f.get();
            try (TopicAudit reader = new TopicAudit(broker.bootstrap(), topic)) {
                assertEquals(2000, reader.readUntil(2000, Duration.ofSeconds(90)), "events missing after the outage");
                assertTrue(reader.readToEnd(Duration.ofSeconds(30)));
                System.out.println("outage test: duplicates " + reader.duplicates());
            }
        }
    }

    @Test
    void aRestartResendsOnlyTheUnconfirmedWindow() throws Exception {
        String topic = "t-restart";
        Path walDir = tmp.resolve("wal");
        long firstLast;
        try (Wal wal = Wal.open(WalConfig.defaults(walDir, false), CommitListener.NONE)) {
            try (Forwarder fw = new Forwarder(config(topic), wal, new SimpleMeterRegistry()).start()) {
                List<CompletableFuture<AppendResult>> first = append(wal, "r", 1, 100, 10);
                firstLast = first.get(99).get().index();
                // every record through the last, not the last alone: the live lane may confirm it while the backlog
                // lane has yet to send a gap below it, and those would be sent after the restart (never before)
                fw.whenConfirmedThrough(firstLast).get(60, TimeUnit.SECONDS);
            }
            // forwarder down: the intake keeps appending
            List<CompletableFuture<AppendResult>> second = append(wal, "r", 101, 100, 10);
            for (var f : second) f.get();
            long secondLast = second.get(99).get().index();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (Forwarder fw = new Forwarder(config(topic), wal, registry).start();
                 TopicAudit reader = new TopicAudit(broker.bootstrap(), topic)) {
                assertEquals(2000, reader.readUntil(2000, Duration.ofSeconds(60)));
                // once the forwarder has confirmed everything, whatever it resent is in the topic: read all of it
                fw.whenConfirmedThrough(secondLast).get(60, TimeUnit.SECONDS);
                assertTrue(reader.readToEnd(Duration.ofSeconds(30)));
                assertEquals(0, reader.duplicates(), "everything confirmed before the restart was saved");
                assertEquals(0, registry.counter("forwarder.resent.after.restart.events").count());
            }
        }
    }

    @Test
    void replaySendsARangeWithTheSameEventIds() throws Exception {
        String topic = "t-replay";
        Path walDir = tmp.resolve("wal");
        List<Long> indices = new ArrayList<>();
        try (Wal wal = Wal.open(WalConfig.defaults(walDir, false), CommitListener.NONE)) {
            for (var f : append(wal, "p", 1, 30, 10)) indices.add(f.get().index());
        }
        try (dev.holdfast.wal.WalInspector inspector = dev.holdfast.wal.WalInspector.open(walDir)) {
            WalReplay.Range range = new WalReplay.Range(indices.get(10), indices.get(19), null, null);
            WalReplay.Result dry = WalReplay.run(inspector, range, new EventRecords(topic, "x"), null, ScanProgress.NONE);
            assertEquals(10, dry.records());
            assertEquals(100, dry.events());
            try (var producer = Producers.create(broker.bootstrap(), "replay-test", java.util.Map.of());
                 TopicAudit audit = new TopicAudit(broker.bootstrap(), topic)) {
                WalReplay.Result sent = WalReplay.run(inspector, range, new EventRecords(topic, "x"), producer, ScanProgress.NONE);
                assertEquals(100, sent.events());
                assertEquals(100, audit.readUntil(100, Duration.ofSeconds(60)));
                assertEquals(1, audit.copies("p/11/0"));
                assertEquals(1, audit.copies("p/20/9"));
                assertEquals(0, audit.copies("p/21/0"));
            }
        }
    }

    @Test
    void retentionDeletesOnlyForwardedSegmentsOlderThanTheRetention() throws Exception {
        String topic = "t-retention";
        WalConfig walConfig = new WalConfig(tmp.resolve("wal"), false, 0, 1 << 20, "TEST_SECONDLY", 1L << 20,
                WalConfig.defaults(tmp, false).limits(), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        try (Wal wal = Wal.open(walConfig, CommitListener.NONE)) {
            ForwarderConfig cfg = config(topic).withRetention(Duration.ofHours(1));
            ManualClock clock = new ManualClock(); // the forwarder's: a segment's age is this less its file's mtime
            try (Forwarder fw = forwarder(cfg, wal, new SimpleMeterRegistry(), clock).start()) {
                long last = -1;
                for (int second = 0; second < 3; second++) {
                    for (var f : append(wal, "k", 1 + second * 10L, 10, 5)) last = f.get().index();
                    Thread.sleep(1100); // a new segment every second: Chronicle rolls by the real time
                }
                fw.whenConfirmedThrough(last).get(60, TimeUnit.SECONDS);
                List<WalSegment> segments = wal.segments();
                assertTrue(segments.size() >= 3, segments.toString());
                // an hour after the second segment's last write: only the first is older than the retention
                clock.advance(Duration.between(clock.instant(),
                        Instant.ofEpochMilli(segments.get(1).lastModifiedMillis()).plus(cfg.retention())));
                List<String> younger = segments.subList(1, segments.size()).stream().map(WalSegment::file).toList();
                awaitRetention(fw, wal, younger.size());
                assertEquals(younger, wal.segments().stream().map(WalSegment::file).toList(),
                        "only the forwarded segment older than the retention is deleted");
                clock.advance(Duration.ofHours(1));
                awaitRetention(fw, wal, 1);
                assertEquals(1, wal.segments().size(), "forwarded old segments are deleted: " + wal.segments());
            }
            // now with Kafka unreachable for this forwarder: nothing it did not forward may be deleted, however old
            ForwarderConfig unreachable = ForwarderConfig.defaults("127.0.0.1:1", topic, "node-t", tmp.resolve("p2"))
                    .withRetention(Duration.ofHours(1));
            for (var f : append(wal, "k", 100, 5, 5)) f.get();
            Thread.sleep(1100);
            for (var f : append(wal, "k", 105, 5, 5)) f.get();
            int before = wal.segments().size();
            try (Forwarder fw = forwarder(unreachable, wal, new SimpleMeterRegistry(),
                    new ManualClock().advance(Duration.ofDays(1))).start()) {
                fw.applyRetention();
                assertEquals(before, wal.segments().size(), "an unforwarded segment was deleted");
            }
        }
    }

    /**
     * Applies retention until at most {@code segments} are left (for up to 20 s): Chronicle lets go of a file some
     * time after its last reader is done with it, and a mapped file is not deleted.
     */
    private static void awaitRetention(Forwarder fw, Wal wal, int segments) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (wal.segments().size() > segments && System.nanoTime() < deadline) {
            fw.applyRetention();
            Thread.sleep(200);
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String name, String lane) {
        var search = registry.find(name);
        if (lane != null) search = search.tag("lane", lane);
        return search.gauge().value();
    }
}
