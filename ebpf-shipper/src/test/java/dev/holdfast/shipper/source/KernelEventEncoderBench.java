package dev.holdfast.shipper.source;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.PriorityRules;
import dev.holdfast.shipper.ebpf.KernelEvent;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Not a test: a micro-benchmark of the eBPF source's hot path, a drained batch encoded record by record as
 * {@link EbpfSource#poll} does it (copied out of the direct drain buffer, then {@link KernelEventEncoder#encodeAll}).
 * The records are those bench/fileload.c makes the probe write (create, modify, close_write, rename, unlink of
 * ~45-byte paths by "fileload"). Prints the median time and bytes allocated per record over the rounds.
 *
 * <p>Run from the repository's root with the shipper's JIT settings (C1 only, as {@code holdfast shipper} runs):
 * <pre>
 * mvn -o -q -B -pl ebpf-shipper -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -XX:TieredStopAtLevel=1 -cp ebpf-shipper/target/test-classes:ebpf-shipper/target/classes:$(cat /tmp/cp.txt) \
 *     dev.holdfast.shipper.source.KernelEventEncoderBench [rounds, 30] [drained batches per round, 50]
 * </pre>
 */
public final class KernelEventEncoderBench {
    private KernelEventEncoderBench() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        ByteBuffer drained = ByteBuffer.allocateDirect(EbpfSource.DRAIN_BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int records = fill(drained);
        byte[] heap = new byte[drained.capacity()];
        KernelEventEncoder encoder = new KernelEventEncoder(PriorityRules.defaults(), 1_764_000_000_000_000_000L);
        Sum sink = new Sum();
        System.out.printf("drained batch: %d records, %d bytes; %d rounds of %d batches%n", records, drained.limit(),
                rounds, perRound);

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        double[] nanos = new double[rounds];
        double[] alloc = new double[rounds];
        for (int r = -Math.max(5, rounds / 3); r < rounds; r++) {
            long a0 = threads.getThreadAllocatedBytes(thread);
            long t0 = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                int size = drained.remaining();
                drained.get(drained.position(), heap, 0, size);
                encoder.encodeAll(heap, size, sink);
            }
            long t1 = System.nanoTime();
            long a1 = threads.getThreadAllocatedBytes(thread);
            if (r >= 0) {
                nanos[r] = (t1 - t0) / (double) perRound / records;
                alloc[r] = (a1 - a0) / (double) perRound / records;
            }
        }
        Arrays.sort(nanos);
        Arrays.sort(alloc);
        System.out.printf("median %.1f ns/record (min %.1f, max %.1f), %.1f bytes allocated/record (checksum %d)%n",
                nanos[rounds / 2], nanos[0], nanos[rounds - 1], alloc[rounds / 2], sink.bytes);
    }

    /** Fills the buffer as a drain does, [u32 length][record]..., with fileload's five operations in turn. */
    private static int fill(ByteBuffer b) {
        int at = 0;
        int n = 0;
        int[] kinds = {1, 3, 4, 5, 6}; // CREATE, MODIFY, CLOSE_WRITE, RENAME, UNLINK (enum hf_kind)
        int[] syscalls = {2, 5, 6, 9, 12}; // openat, write, close, rename, unlink (enum hf_sys)
        while (at + 4 + 1024 < b.capacity()) {
            int op = n % 5;
            KernelEventEncoderTest.Record r = new KernelEventEncoderTest.Record();
            r.ts = 1_000_000_000L + n * 7_000L;
            r.cgroup = 6_543;
            r.inode = 1_200_000 + n / 5;
            r.dev = 0x803;
            r.pid = 31_337;
            r.tid = 31_337;
            r.ppid = 31_300;
            r.mode = 0100644;
            r.flags = op == 0 ? 0301 : 0;
            r.kind = kinds[op];
            r.syscall = syscalls[op];
            r.evflags = op < 3 ? KernelEvent.FROM_FD : KernelEvent.USER_PATH;
            r.ret = op == 0 ? 3 : op == 1 ? 16 : 0;
            byte[] comm = "fileload".getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(comm, 0, r.comm, 0, comm.length);
            String name = "/tmp/hf-shipbench-31337/watched/" + (op < 4 ? "f" : "r") + "31337-" + n / 5;
            r.path = name.getBytes(StandardCharsets.US_ASCII);
            if (op == 3) {
                r.newPath = ("/tmp/hf-shipbench-31337/watched/r31337-" + n / 5).getBytes(StandardCharsets.US_ASCII);
            }
            int len = r.write(b, at + 4);
            b.putInt(at, len);
            at += 4 + len;
            n++;
        }
        b.position(0).limit(at);
        return n;
    }

    /** Touches every encoded byte count, so that nothing is optimised away. */
    private static final class Sum implements EventSink {
        long bytes;

        @Override
        public void event(Event event) {
            throw new AssertionError("encoded events only");
        }

        @Override
        public void encoded(Priority priority, byte[] bytes, int length) {
            this.bytes += length + bytes[length - 1];
        }
    }
}
