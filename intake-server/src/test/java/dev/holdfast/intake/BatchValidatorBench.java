package dev.holdfast.intake;

import dev.holdfast.forwarder.ForwardLimit;
import dev.holdfast.forwarder.ValueEncoding;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Not a test: a micro-benchmark of {@link BatchValidator} (the walk) against {@link ParseFromValidator} (the
 * parseFrom validation it replaced) on one realistic batch, 500 file events of ~200 bytes as the eBPF shipper makes
 * them, with the forwarder's event size limit as a forwarding intake has it. Rounds alternate between the two;
 * prints the median time per batch and the bytes allocated per batch (ThreadMXBean) of each.
 *
 * <p>Run from the repository's root (the first command compiles and writes the test classpath):
 * <pre>
 * mvn -o -q -B -pl intake-server -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -cp intake-server/target/test-classes:intake-server/target/classes:$(cat /tmp/cp.txt) \
 *     dev.holdfast.intake.BatchValidatorBench [rounds, 30] [batches per round, 200] [shipper|generator]
 * </pre>
 * {@code generator} takes the events of {@code holdfast bench ingest} instead (the cli's {@code EventPool}): a
 * random 63-bit cgroup id and a padding attribute up to 200 bytes.
 */
public final class BatchValidatorBench {
    private BatchValidatorBench() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        boolean generator = args.length > 2 && args[2].equals("generator");
        byte[] batch = generator ? generatorBatch(500, new Random(1)) : shipperBatch(500, new Random(1));
        BatchValidator.Limits limits = new BatchValidator.Limits(4 << 20, 10_000, 256);
        EventSizeLimit size = new EventSizeLimit(0, new ForwardLimit(Map.of(), "node-1", "holdfast.events",
                ValueEncoding.PROTOBUF));
        BatchValidator walk = new BatchValidator(limits, size);
        ParseFromValidator parse = new ParseFromValidator(limits, size, ParseFromValidator.SizeMeasure.RESERIALISED);
        BatchValidatorEquivalenceTest.assertSameResult(parse.validate(batch, 1, null), walk.validate(batch, 1, null),
                "bench batch");
        System.out.printf("batch: %d events, %d bytes (%.0f per event); %d rounds of %d batches each, alternating%n",
                500, batch.length, batch.length / 500.0, rounds, perRound);

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long[][] nanos = new long[2][rounds];
        long[][] alloc = new long[2][rounds];
        int warmup = Math.max(5, rounds / 3);
        long sink = 0;
        for (int r = -warmup; r < rounds; r++) {
            for (int which = 0; which < 2; which++) {
                int w = (r & 1) == 0 ? which : 1 - which; // alternate which goes first
                long a0 = threads.getThreadAllocatedBytes(thread);
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    BatchValidator.Result res = w == 0 ? parse.validate(batch, i, null) : walk.validate(batch, i, null);
                    sink += ((BatchValidator.Valid) res).header().eventCount();
                }
                long t1 = System.nanoTime();
                long a1 = threads.getThreadAllocatedBytes(thread);
                if (r >= 0) {
                    nanos[w][r] = (t1 - t0) / perRound;
                    alloc[w][r] = (a1 - a0) / perRound;
                }
            }
        }
        String[] names = {"parseFrom (before)", "walk (now)"};
        for (int w = 0; w < 2; w++) {
            System.out.printf("%-20s median %,9d ns/batch (min %,9d, max %,9d), %,10d bytes allocated/batch%n",
                    names[w], median(nanos[w]), Arrays.stream(nanos[w]).min().orElse(0),
                    Arrays.stream(nanos[w]).max().orElse(0), median(alloc[w]));
        }
        System.out.printf("walk/parseFrom time: %.2f (checksum %d)%n", median(nanos[1]) / (double) median(nanos[0]),
                sink);
    }

    private static long median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Events as {@code holdfast bench ingest} makes them (cli's EventPool, which this module cannot see). */
    static byte[] generatorBatch(int events, Random r) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId("bench-agent-0").setBatchSeq(123_456);
        String[] dirs = {"/var/log/nginx", "/etc/systemd/system", "/usr/lib/x86_64-linux-gnu", "/srv/www/static"};
        String[] names = {"access.log", "sshd_config", "libssl.so.3", "index.html", "segment-000123.wal"};
        String[] comms = {"nginx", "postgres", "sshd", "python3", "containerd-shim"};
        for (int i = 0; i < events; i++) {
            int pid = 300 + r.nextInt(4_000_000);
            FileEvent file = FileEvent.newBuilder().setKindValue(1 + r.nextInt(7))
                    .setPath(dirs[r.nextInt(dirs.length)] + "/" + names[r.nextInt(names.length)])
                    .setPid(pid).setTid(pid + r.nextInt(16)).setPpid(1 + r.nextInt(pid))
                    .setUid(r.nextBoolean() ? 0 : 1000 + r.nextInt(50)).setGid(r.nextBoolean() ? 0 : 1000)
                    .setComm(comms[r.nextInt(comms.length)]).setCgroupId(r.nextLong() & Long.MAX_VALUE)
                    .setInode(r.nextInt(1 << 30)).setDev(0x800000L + r.nextInt(64)).setMode(0100644)
                    .setFlags(r.nextInt(0x80000)).setSource("ebpf").build();
            Event event = Event.newBuilder().setTimeUnixNano(1_764_000_000_000_000_000L + i * 1000L)
                    .setPriority(Priority.NORMAL).setFile(file).build();
            int pad = Math.max(0, 200 - event.getSerializedSize() - 8);
            b.addEvents(event.toBuilder().putAttributes("pad", "x".repeat(pad)));
        }
        return b.build().toByteArray();
    }

    /** Events as the eBPF source makes them: a file event from eBPF, its syscall and one more attribute. */
    static byte[] shipperBatch(int events, Random r) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId("node-17.prod.example.net").setBatchSeq(123_456);
        String[] comms = {"containerd", "nginx", "java", "postgres", "kubelet"};
        for (int i = 0; i < events; i++) {
            FileEvent file = FileEvent.newBuilder().setKindValue(1 + r.nextInt(4))
                    .setPath("/var/lib/kubelet/pods/" + Long.toHexString(r.nextLong()) + "/volumes/config/app-"
                            + r.nextInt(100) + ".yaml")
                    .setPid(1000 + r.nextInt(60_000)).setTid(1000 + r.nextInt(60_000)).setPpid(1 + r.nextInt(5000))
                    .setUid(r.nextInt(2000)).setGid(r.nextInt(2000)).setComm(comms[r.nextInt(comms.length)])
                    .setCgroupId(r.nextLong() >>> 20).setInode(r.nextLong() >>> 30).setDev(2049)
                    .setMode(0100644).setFlags(0x8000 | r.nextInt(8)).setReturnValue(r.nextInt(64))
                    .setSource("ebpf").build();
            b.addEvents(Event.newBuilder().setTimeUnixNano(1_764_000_000_000_000_000L + i * 1000L)
                    .setPriority(r.nextInt(20) == 0 ? Priority.CRITICAL : Priority.NORMAL).setFile(file)
                    .putAttributes("syscall", "openat").putAttributes("k8s.namespace", "payments"));
        }
        return b.build().toByteArray();
    }
}
