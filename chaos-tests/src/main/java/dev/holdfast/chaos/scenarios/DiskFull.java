package dev.holdfast.chaos.scenarios;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.chaos.Scenario;
import dev.holdfast.chaos.harness.AckTimeline;
import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.LoadAgents;
import dev.holdfast.chaos.harness.ScenarioResult;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * 4. The WAL's file system (a 96 MiB tmpfs) is filled up by another writer under load: the intake must refuse with
 * RETRY_LATER, bulk first, critical last, never crash (a mapped write to a full tmpfs is a SIGBUS), and accept again
 * once the space comes back. Nothing acknowledged is lost.
 */
public final class DiskFull extends Scenario {
    private static final long FS_BYTES = 96L << 20;
    /** What the filler leaves free: the WAL's budget is this minus minFreeBytes, filled within seconds. */
    private static final long LEFT_FREE = 24L << 20;
    /** How long after bulk is first shed its already admitted batches may still be acknowledged. */
    private static final long SETTLE_MILLIS = 1000;
    /** The least time the priorities are compared for, even if shedding began late. */
    private static final long MIN_SHED_WINDOW_MILLIS = 4000;

    public DiskFull() {
        super("disk-full",
                "WAL file system filled under load: RETRY_LATER by priority, no crash, accepts again when space returns");
    }

    @Override
    public void run(ChaosContext ctx, ScenarioResult r) throws Exception {
        Path dir = ctx.dir(name());
        String topic = ctx.topic(name());
        Path mount = dir.resolve("wal-fs");
        Files.createDirectories(mount);
        int mounted = exec("mount", "-t", "tmpfs", "-o", "size=" + FS_BYTES, "holdfast-chaos", mount.toString());
        if (mounted != 0) {
            throw new Unavailable("cannot mount a " + (FS_BYTES >> 20) + " MiB tmpfs at " + mount
                    + " (exit " + mounted + "): this scenario needs root");
        }
        try {
            Map<String, String> wal = Map.of("blockSize", "1MiB", "rollCycle", "FIVE_MINUTELY",
                    "minFreeBytes", "4MiB", "maxBytes", "1GiB", "bulkWatermark", "0.5", "normalWatermark", "0.8",
                    "retryAfter", "200ms");
            IntakeNode a = new IntakeNode(ctx.home(), "intake-a", dir, mount.resolve("data"), ctx.kafkaBootstrap(),
                    topic, wal);
            try (a; AckTimeline all = new AckTimeline(); AckTimeline bulkTimeline = new AckTimeline()) {
                a.start();
                int fullSeconds = ctx.seconds(10);
                LoadAgents bulk = LoadAgents.start(ctx.home(), dir, LoadAgents.Spec.of("bulk", a.address(), 2, 20).withPriority("bulk").withEvents(50, 1000));
                LoadAgents critical = LoadAgents.start(ctx.home(), dir, LoadAgents.Spec.of("critical", a.address(), 1, 20).withPriority("critical").withEvents(50, 1000));
                try (bulk; critical) {
                    all.watch(bulk.ackLog());
                    all.watch(critical.ackLog());
                    bulkTimeline.watch(bulk.ackLog());
                    Thread.sleep(4000);
                    Path filler = mount.resolve("filler");
                    fill(filler, mount, LEFT_FREE);
                    long filledAt = System.currentTimeMillis();
                    long fullUntil = filledAt + fullSeconds * 1000L;
                    // Compare the priorities only once bulk is being shed: before that both are accepted, and how
                    // much bulk gets in first depends on how fast this machine is, not on the intake.
                    long shedAt = awaitShedding(a, fullUntil);
                    // batches admitted just before the switch are acknowledged just after it
                    Thread.sleep(SETTLE_MILLIS);
                    long bulkBefore = bulk.ackedCount();
                    long criticalBefore = critical.ackedCount();
                    Thread.sleep(Math.max(MIN_SHED_WINDOW_MILLIS, fullUntil - System.currentTimeMillis()));
                    long shedWindow = System.currentTimeMillis() - shedAt - SETTLE_MILLIS;
                    double pressure = a.metric("holdfast_wal_pressure_level");
                    r.fact("WAL size/budget/free MiB when full", mib(a.metric("holdfast_wal_size_bytes")) + "/"
                            + mib(a.metric("holdfast_wal_budget_bytes")) + "/" + mib(a.metric("holdfast_wal_disk_free_bytes")));
                    long bulkDuring = bulk.ackedCount() - bulkBefore;
                    long criticalDuring = critical.ackedCount() - criticalBefore;
                    boolean aliveWhenFull = a.alive() && a.status("/healthz") == 200;
                    Files.delete(filler);
                    long freedAt = System.currentTimeMillis();
                    bulkTimeline.awaitAckAfter(freedAt, 5000); // bulk is accepted again
                    r.fact("WAL size/budget/free MiB after", mib(a.metric("holdfast_wal_size_bytes")) + "/"
                            + mib(a.metric("holdfast_wal_budget_bytes")) + "/" + mib(a.metric("holdfast_wal_disk_free_bytes"))
                            + " (pressure " + a.metric("holdfast_wal_pressure_level") + ")");
                    r.fact("pressure level when full", pressure);
                    r.fact("bulk shed after ms", shedAt < 0 ? "never" : shedAt - filledAt);
                    r.fact("acked while bulk was shed: bulk/critical batches", bulkDuring + "/" + criticalDuring
                            + " in " + shedWindow + " ms");
                    r.fact("full for s", (freedAt - filledAt) / 1000);
                    r.check(shedAt >= 0, "the WAL never reached the bulk watermark while the disk was full");
                    r.check(aliveWhenFull, "the intake died or stopped answering while the disk was full: "
                            + a.log());
                    ctx.verifyDelivery(r, topic, List.of(bulk, critical), all);
                    long bulkResumed = bulkTimeline.firstAckAfter(freedAt);
                    r.recoveryMillis = bulkResumed;
                    JsonNode bulkReport = bulk.report();
                    JsonNode criticalReport = critical.report();
                    r.fact("RETRY_LATER answers bulk/critical", bulkReport.path("retries").asLong() + "/"
                            + criticalReport.path("retries").asLong());
                    r.check(bulkReport.path("retries").asLong() > 0, "bulk batches were never refused: no pressure");
                    r.check(criticalDuring > 0, "critical was refused while only bulk should have been");
                    r.check(criticalDuring > bulkDuring, "while bulk was shed bulk got more through than critical");
                    r.check(bulkResumed >= 0, "bulk was not accepted again after the space came back");
                    r.check(a.alive(), "the intake died");
                }
            }
        } finally {
            exec("umount", "-l", mount.toString());
        }
    }

    /** When the intake starts shedding bulk (pressure level SHED_BULK or worse), or -1 if not by {@code until}. */
    private static long awaitShedding(IntakeNode node, long until) throws InterruptedException {
        while (System.currentTimeMillis() < until) {
            if (node.metric("holdfast_wal_pressure_level") >= 1) {
                return System.currentTimeMillis();
            }
            Thread.sleep(100);
        }
        return -1;
    }

    private static long mib(double bytes) {
        return Math.round(bytes / (1 << 20));
    }

    /** Writes a file until the file system has only {@code leaveFree} bytes left. */
    private static void fill(Path filler, Path mount, long leaveFree) throws IOException {
        long usable = Files.getFileStore(mount).getUsableSpace();
        long size = Math.max(0, usable - leaveFree);
        byte[] chunk = new byte[1 << 20];
        try (RandomAccessFile f = new RandomAccessFile(filler.toFile(), "rw")) {
            for (long written = 0; written < size; written += chunk.length) {
                f.write(chunk, 0, (int) Math.min(chunk.length, size - written));
            }
        }
    }

    private static int exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
