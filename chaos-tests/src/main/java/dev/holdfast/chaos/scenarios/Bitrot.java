package dev.holdfast.chaos.scenarios;

import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;
import dev.holdfast.chaos.harness.WalDamage;
import dev.holdfast.chaos.harness.WalDamage.Document;
import dev.holdfast.chaos.harness.WalTool;
import dev.holdfast.chaos.harness.WalTool.Dumped;
import dev.holdfast.forwarder.kafka.TopicAudit;
import dev.holdfast.wal.WalConfig;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * 9. Bit rot in the middle of a WAL segment. An intake is SIGKILLed under load while its WAL holds several thousand
 * records that Kafka has not seen yet (the Kafka proxy blackholes while the WAL fills); while it is down one data
 * record's header gets its not-complete bit set (the record itself stays intact) and one random 4 KiB block in the
 * middle of the segment's written part is overwritten with random bytes. {@code wal verify} must exit 1 and name
 * both; a {@code wal dump} of the damaged WAL may miss only records the block overlapped, and never the record
 * behind the flipped flag; the restart must repair and name the damage; afterwards every acknowledged batch is in
 * Kafka except ones the block provably destroyed, and {@code wal verify} passes on the repaired WAL.
 *
 * <p>Why SIGKILL and not a clean stop: a clean stop writes a final checkpoint covering the whole WAL, and start-up
 * recovery is only required to look at the records after the checkpoint (issue 11: every header from the
 * checkpoint to the end; a walk of all segments only without a current checkpoint). The kill is timed between two
 * checkpoints and both damages go after the last one, in the part of the segment a restart must read, so the
 * restart has to find and repair them. Records before the checkpoint stay intact and are read by the forwarder.
 */
public final class Bitrot extends Scenario {
    /**
     * Acknowledged batches (one record each, all in the WAL) before the kill is timed: several thousand records in
     * the segment, and more arrive until the kill.
     */
    private static final int LOAD_RECORDS = 3000;
    /** Below this the scenario did not test what it claims (the machine was too slow to load the WAL). */
    private static final int MIN_HELD = 3000;
    /** Records after the checkpoint needed to place the damages mid-segment with intact records on both sides. */
    private static final int MIN_WINDOW = 200;
    private static final long READY_MAX_MS = 10_000;
    private static final long FORWARD_TIMEOUT_MS = 30_000;
    private static final int EVENTS = 5;

    public Bitrot() {
        super("bitrot",
                "a killed intake's WAL rots mid-segment (a flipped not-complete flag, a random 4 KiB block): wal verify "
                + "names both, the restart repairs, only what the block overlapped may be missing from Kafka");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        Random random = ctx.random(name());
        long t0 = System.currentTimeMillis();
        // an hourly segment: the whole run lands in one file (a roll mid-run is handled, just unlikely)
        Map<String, String> walSettings = new HashMap<>(IntakeNode.SMALL_WAL);
        walSettings.put("rollCycle", "FAST_HOURLY");
        try (IntakeNode a = ctx.intake(dir, "intake-a", topic, walSettings);
             AckTimeline timeline = new AckTimeline()) {
            Path walDir = a.dataDir().resolve("wal");
            // the WAL fills while Kafka is cut off: the damaged segment is a backlog the forwarder must read after it
            ctx.kafkaProxy().blackhole();
            // the agents' JVM starts while the intake does (they retry until it listens)
            LoadAgents agents = LoadAgents.start(ctx.home(), dir,
                    LoadAgents.Spec.of("bitrot", a.address(), 6, 200).withEvents(EVENTS, 100));
            timeline.watch(agents.ackLog());
            try (agents) {
                a.start();
                awaitAcks(agents, LOAD_RECORDS, ctx.seconds(40) * 1000L);
                killBetweenCheckpoints(a, walDir);
                long killedAt = System.currentTimeMillis();
                ctx.log("%s: +%d s intake SIGKILLed after %,d acknowledged batches (Kafka cut off meanwhile)", name(),
                        (killedAt - t0) / 1000, agents.ackedCount());

                // what the WAL holds, by batch, before anything is damaged
                List<Dumped> held = WalTool.dump(ctx.home(), dir, "dump-held", a.dataDir()).await(120).records();
                r.fact("records held", held.size());
                r.check(held.size() >= MIN_HELD, "the WAL held only " + held.size() + " records at the kill (the "
                        + "scenario needs several thousand; the load was too slow on this machine)");
                Plan plan = plan(walDir, held, WalDamage.checkpointCovers(walDir), random);
                WalDamage.flipNotComplete(plan.segment(), plan.flipped().position());
                WalDamage.overwriteBlock(plan.segment(), plan.blockAt(), random);
                ctx.log("%s: +%d s damaged (seed %d): %s", name(), (System.currentTimeMillis() - t0) / 1000,
                        ctx.seed(), plan.describe());
                r.fact("damage", plan.describe());

                WalTool.Run verifyRun = WalTool.verify(ctx.home(), dir, "verify-damaged", a.dataDir());
                WalTool.Run dumpRun = WalTool.dump(ctx.home(), dir, "dump-damaged", a.dataDir());
                WalTool.Output verify = verifyRun.await(120);
                List<Dumped> damaged = dumpRun.await(120).records();
                r.fact("wal verify of the damaged WAL, exit", verify.exit());
                r.check(verify.exit() == 1, "wal verify exited " + verify.exit() + " on the damaged WAL (expected 1); "
                        + "it printed: " + brief(verify.stdout()));
                r.check(plan.flip().namedIn(verify.text()), "wal verify did not name the flipped header ("
                        + plan.flip().describe() + ")");
                r.check(plan.block().namedIn(verify.text()), "wal verify did not name the overwritten block ("
                        + plan.block().describe() + ")");
                Set<String> destroyed = destroyed(r, plan, held, damaged);

                // the restart on the damaged WAL: ready, and says what it found and repaired
                List<String> ackedBeforeKill = agents.ackedBatches(); // the intake is down: nothing more is acked
                ctx.kafkaProxy().heal();
                long logFrom = Files.size(a.log());
                long restartAt = System.currentTimeMillis();
                long readyMs = a.start();
                String readyz = a.get("/readyz");
                String restartLog = readFrom(a.log(), logFrom);
                ctx.log("%s: +%d s restarted, ready in %d ms", name(), (System.currentTimeMillis() - t0) / 1000,
                        readyMs);
                r.fact("restart-to-ready ms", readyMs);
                r.check(readyMs < READY_MAX_MS, "the restart after the damage took " + readyMs + " ms");
                String said = restartLog + "\n" + readyz;
                r.check(plan.flip().namedIn(said), "the restart did not name the flipped header (" + plan.flip().describe()
                        + ") in its log or /readyz: " + brief(holdfastLines(restartLog) + " /readyz " + readyz));
                r.check(plan.block().namedIn(said), "the restart did not name the overwritten block ("
                        + plan.block().describe() + ") in its log or /readyz: "
                        + brief(holdfastLines(restartLog) + " /readyz " + readyz));

                Thread.sleep(ctx.seconds(4) * 1000L);
                r.recoveryMillis = timeline.firstAckAfter(restartAt);
                agents.finish();
                agents.awaitExit(180);
                double lag = a.awaitForwarded(FORWARD_TIMEOUT_MS);
                ctx.log("%s: +%d s load ended, forwarder lag %.0f", name(), (System.currentTimeMillis() - t0) / 1000,
                        lag);
                r.fact("forwarded events after the restart", (long) a.metric("holdfast_forwarder_sent_events_total"));
                r.check(lag == 0, "forwarding did not finish: lag " + lag + " records "
                        + FORWARD_TIMEOUT_MS / 1000 + " s after the load ended");

                // the repaired WAL is read while Kafka is audited: both only read
                WalTool.Run verify2Run = WalTool.verify(ctx.home(), dir, "verify-repaired", a.dataDir());
                WalTool.Run dump2Run = WalTool.dump(ctx.home(), dir, "dump-repaired", a.dataDir());
                Set<String> destroyedAcked = new LinkedHashSet<>(ackedBeforeKill);
                destroyedAcked.retainAll(destroyed);
                Map<String, TopicAudit.Seen> seen = ctx.verifyDelivery(r, topic, List.of(agents), timeline,
                        destroyedAcked, Duration.ofSeconds(15));
                List<String> acked = agents.ackedBatches();
                List<String> afterRestart = acked.subList(Math.min(ackedBeforeKill.size(), acked.size()), acked.size());
                List<String> lostAfter = missing(agents, seen, afterRestart);
                List<String> lostBefore = missing(agents, seen, ackedBeforeKill.stream()
                        .filter(b -> !destroyedAcked.contains(b)).toList());
                r.fact("acked batches before the kill / after the restart", ackedBeforeKill.size() + " / "
                        + afterRestart.size());
                r.check(!afterRestart.isEmpty(), "nothing was acknowledged after the restart");
                r.check(lostAfter.isEmpty(), lostAfter.size() + " of " + afterRestart.size() + " batches acknowledged "
                        + "after the restart are not (completely) in Kafka, e.g. " + sample(lostAfter));
                r.check(lostBefore.isEmpty(), lostBefore.size() + " of " + ackedBeforeKill.size() + " batches "
                        + "acknowledged before the damage and not destroyed by it are not (completely) in Kafka, e.g. "
                        + sample(lostBefore));
                r.check(missing(agents, seen, List.of(plan.flippedBatch())).isEmpty(), "the intact record behind the "
                        + "flipped flag ('" + plan.flippedBatch() + "') never reached Kafka");

                // the repaired WAL: verify passes (the damaged bytes are in quarantine/) and hides nothing intact
                WalTool.Output verify2 = verify2Run.await(120);
                List<Dumped> repaired = dump2Run.await(120).records();
                long quarantined = countFiles(walDir.resolve("quarantine"))
                        + countFiles(a.dataDir().resolve("quarantine"));
                r.fact("wal verify after the repair, exit", verify2.exit());
                r.fact("quarantined files", quarantined);
                r.check(verify2.exit() == 0, "wal verify exited " + verify2.exit() + " on the repaired WAL after "
                        + "forwarding (expected 0: the repair moves the damaged bytes to quarantine/); it printed: "
                        + brief(verify2.stdout()));
                r.check(quarantined > 0, "the repair left nothing in quarantine/ (" + walDir.resolve("quarantine")
                        + " or " + a.dataDir().resolve("quarantine") + ")");
                Set<String> repairedBatches = repaired.stream().map(Dumped::batch).collect(Collectors.toSet());
                List<String> hidden = held.stream().map(Dumped::batch)
                        .filter(b -> !repairedBatches.contains(b) && !destroyed.contains(b)).toList();
                r.check(hidden.isEmpty(), hidden.size() + " of the " + held.size() + " records the WAL held before "
                        + "the damage (not destroyed by it) are missing from wal dump of the repaired WAL, e.g. "
                        + sample(hidden));
                ctx.log("%s: +%d s done: %,d records held, %d destroyed", name(),
                        (System.currentTimeMillis() - t0) / 1000, held.size(), destroyed.size());
            } finally {
                ctx.kafkaProxy().heal();
            }
        }
    }

    /**
     * Where a damage is: its segment, the WAL indices of the records it hit, and the bytes it spans. A tool or log
     * names it when one line gives one of those indices (decimal or hex), or a byte offset within the span on a
     * line that also names the segment (an offset alone does not say which file). Chronicle's and Kafka's own log
     * lines do not count (they name files and print timings, never damage).
     */
    record Damage(String what, String segment, Set<Long> indices, long from, long to) {
        String describe() {
            LongSummaryStatistics i = indices.stream().mapToLong(Long::longValue).summaryStatistics();
            String records = indices.isEmpty() ? "no record"
                    : indices.size() == 1 ? "record index " + i.getMin() + " = 0x" + Long.toHexString(i.getMin())
                    : indices.size() + " records, index 0x" + Long.toHexString(i.getMin()) + "-0x"
                    + Long.toHexString(i.getMax());
            return String.format(Locale.ROOT, "%s: %s bytes %d-%d, %s", what, segment, from, to, records);
        }

        boolean namedIn(String text) {
            for (String line : text.split("\n")) {
                if (line.contains("net.openhft.") || line.contains("org.apache.kafka.")) {
                    continue;
                }
                boolean inSegment = line.contains(segment);
                for (String token : line.split("[^0-9A-Za-z]+")) {
                    for (long v : numbers(token)) {
                        if (indices.contains(v) || inSegment && v >= from && v <= to) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /** The values a token may stand for: decimal, hex, 0x hex. */
        static List<Long> numbers(String token) {
            boolean prefixed = token.startsWith("0x") || token.startsWith("0X");
            String t = prefixed ? token.substring(2) : token;
            List<Long> out = new ArrayList<>(2);
            if (t.length() < 3 || t.length() > 20) {
                return out;
            }
            if (!prefixed && t.chars().allMatch(Character::isDigit)) {
                try {
                    out.add(Long.parseUnsignedLong(t));
                } catch (NumberFormatException ignored) {
                    // more than 64 bits
                }
            }
            if (t.length() <= 16 && t.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                out.add(Long.parseUnsignedLong(t, 16));
            }
            return out;
        }
    }

    /** The two damages, chosen before either is made. */
    record Plan(Path segment, Document flipped, String flippedAgent, long flippedSeq, long blockAt,
                Set<String> overlappedBatches, int bound, Damage flip, Damage block, long checkpoint, int window) {
        String flippedBatch() {
            return flippedAgent + " " + flippedSeq;
        }

        String describe() {
            return String.format(Locale.ROOT, "%s (batch '%s'); %s, block at byte %d; checkpoint at index 0x%x, "
                            + "%d records after it; at most %d records may be destroyed", flip.describe(),
                    flippedBatch(), block.describe(), blockAt, checkpoint, window, bound);
        }
    }

    /**
     * Picks the segment (the one holding most records after the last checkpoint), the record whose header flag is
     * flipped (20-40 % into those records) and the block's offset (between 55 % and 80 %): both mid-segment, with
     * intact records before, between and after them.
     */
    private static Plan plan(Path walDir, List<Dumped> held, long checkpoint, Random random) throws IOException {
        Map<String, Long> afterCheckpoint = held.stream().filter(d -> Long.compareUnsigned(d.index(), checkpoint) > 0
                        || checkpoint < 0)
                .collect(Collectors.groupingBy(Dumped::segment, LinkedHashMap::new, Collectors.counting()));
        String name = afterCheckpoint.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElseThrow(() -> new IllegalStateException("no record after the checkpoint (index " + checkpoint
                        + ") in " + held.size() + " dumped records"));
        Path segment = walDir.resolve(name);
        List<Document> docs = WalDamage.layout(segment);
        List<Dumped> inSegment = held.stream().filter(d -> d.segment().equals(name)).toList();
        Map<String, Dumped> byBatch = new HashMap<>();
        inSegment.forEach(d -> byBatch.put(d.batch(), d));
        List<Document> records = docs.stream().filter(Document::isRecord).toList();
        if (records.size() != inSegment.size()) {
            throw new IllegalStateException(name + ": the byte-level walk found " + records.size()
                    + " records, wal dump " + inSegment.size() + " (harness and WAL disagree on the segment format)");
        }
        List<Document> window = records.stream().filter(d -> {
            Dumped x = byBatch.get(batch(d));
            return x != null && (checkpoint < 0 || Long.compareUnsigned(x.index(), checkpoint) > 0);
        }).toList();
        int n = window.size();
        if (n < MIN_WINDOW) {
            throw new IllegalStateException("only " + n + " records of " + name + " after the checkpoint (index "
                    + checkpoint + "); need " + MIN_WINDOW + " to damage mid-segment");
        }
        Document flipped = window.get(n / 5 + random.nextInt(n / 5));
        long lo = window.get(n * 11 / 20).position();
        long hi = window.get(n * 4 / 5).position();
        long blockAt = lo + (long) (random.nextDouble() * (hi - lo));
        long blockEnd = blockAt + WalDamage.BLOCK;
        List<Document> overlapped = docs.stream().filter(d -> d.overlaps(blockAt, blockEnd)).toList();
        Set<String> overlappedBatches = overlapped.stream().filter(Document::isRecord).map(Bitrot::batch)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        long smallest = records.stream().mapToLong(Document::span).min().orElseThrow();
        int bound = (int) (WalDamage.BLOCK / smallest) + 2;
        Damage flip = new Damage("not-complete flag set", name, Set.of(byBatch.get(batch(flipped)).index()),
                flipped.position(), flipped.end());
        Damage block = new Damage("4 KiB block overwritten", name,
                overlappedBatches.stream().map(b -> byBatch.get(b).index()).collect(Collectors.toSet()),
                overlapped.stream().mapToLong(Document::position).min().orElse(blockAt),
                overlapped.stream().mapToLong(Document::end).max().orElse(blockEnd));
        return new Plan(segment, flipped, flipped.agent(), flipped.seq(), blockAt, overlappedBatches, bound, flip,
                block, checkpoint, n);
    }

    /**
     * Records of the held WAL absent from the dump of the damaged one. They count as destroyed only if the block
     * overlapped them and there are no more than one block can overlap; the flipped flag must hide nothing.
     */
    private static Set<String> destroyed(ScenarioResult r, Plan plan, List<Dumped> held, List<Dumped> damaged) {
        Set<String> readable = damaged.stream().map(Dumped::batch).collect(Collectors.toSet());
        List<String> absent = held.stream().map(Dumped::batch).filter(b -> !readable.contains(b)).toList();
        List<String> untouched = absent.stream().filter(b -> !plan.overlappedBatches().contains(b)).toList();
        r.fact("absent from wal dump of the damaged WAL", absent.size() + " (" + untouched.size()
                + " of them untouched by the block)");
        r.check(!absent.contains(plan.flippedBatch()), "the intact record behind the flipped flag ('"
                + plan.flippedBatch() + "') is missing from wal dump of the damaged WAL");
        r.check(untouched.isEmpty(), untouched.size() + " records the block did not touch are missing from wal "
                + "dump of the damaged WAL (" + absent.size() + " of " + held.size() + " missing in all), e.g. "
                + sample(untouched));
        r.check(absent.size() <= plan.bound(), absent.size() + " records missing from wal dump of the damaged WAL, "
                + "more than one 4 KiB block can overlap (" + plan.bound() + ")");
        Set<String> destroyed = new LinkedHashSet<>();
        if (absent.size() <= plan.bound()) {
            absent.stream().filter(plan.overlappedBatches()::contains).forEach(destroyed::add);
        }
        r.fact("destroyed records", destroyed.size() + " (at most " + plan.bound() + ")");
        return destroyed;
    }

    private static String batch(Document d) {
        return d.agent() + " " + d.seq();
    }

    /** Batches with at least one event not in Kafka. */
    private static List<String> missing(LoadAgents agents, Map<String, TopicAudit.Seen> seen, List<String> batches) {
        List<String> out = new ArrayList<>();
        for (String b : batches) {
            if (!seen.keySet().containsAll(agents.ackedEventIds(List.of(b)))) {
                out.add(b);
            }
        }
        return out;
    }

    private static void awaitAcks(LoadAgents agents, long count, long timeoutMillis)
            throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (agents.ackedCount() < count && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
    }

    /**
     * SIGKILLs the intake 60-80 % of a checkpoint interval after it last checkpointed, before the next checkpoint:
     * the records after the checkpoint are what a restart must re-read. Without a checkpoint file (a WAL that no
     * longer keeps one) it kills after three intervals.
     */
    private static void killBetweenCheckpoints(IntakeNode a, Path walDir) throws InterruptedException {
        long interval = WalConfig.CHECKPOINT_INTERVAL_MILLIS;
        long deadline = System.currentTimeMillis() + interval * 3;
        while (System.currentTimeMillis() < deadline) {
            long written = WalDamage.checkpointModified(walDir);
            long age = System.currentTimeMillis() - written;
            if (written > 0 && age >= interval * 6 / 10 && age <= interval * 8 / 10) {
                break;
            }
            Thread.sleep(20);
        }
        a.kill();
    }

    private static String readFrom(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[(int) Math.max(0, f.length() - offset)];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /** The intake's own log lines (not Chronicle's or Kafka's), for failure messages. */
    private static String holdfastLines(String log) {
        return log.lines().filter(l -> l.contains("dev.holdfast") || l.startsWith("holdfast"))
                .collect(Collectors.joining(" | "));
    }

    private static long countFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private static String brief(String s) {
        String one = s.strip().replace('\n', ' ');
        return one.length() <= 700 ? one : one.substring(0, 700) + "…";
    }

    private static String sample(List<String> batches) {
        return batches.stream().limit(5).map(b -> "'" + b + "'").toList().toString();
    }
}
