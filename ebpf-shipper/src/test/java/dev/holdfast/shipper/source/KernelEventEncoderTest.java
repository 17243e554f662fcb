package dev.holdfast.shipper.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.PriorityRules;
import dev.holdfast.shipper.ebpf.KernelEvent;
import dev.holdfast.shipper.ebpf.ReferenceEvents;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The eBPF source's encoder against the reference: for every record, the bytes it writes are exactly those protobuf
 * writes for {@link ReferenceEvents#toEvent} with the priority the rules give its path (what the shipper sent before
 * the encoder). Records are generated from a seed, with the awkward values each field can carry: zeros, -1s, unknown
 * kinds and syscalls, every UTF-8 shape and invalid bytes in every text, paths up to PATH_MAX, comms with and
 * without a terminating NUL, rules that match, nest, are empty or are not ASCII.
 */
class KernelEventEncoderTest {

    private static final int RECORDS = 20_000;

    @Test
    void everyGeneratedRecordEncodesToTheReferenceBytes() {
        long seed = Long.getLong("encoder.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buf = ByteBuffer.allocate(16 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < RECORDS; i++) {
            Record r = Record.random(random);
            PriorityRules rules = rules(random, r.path);
            long offset = random.nextInt(4) == 0 ? 0 : random.nextLong();
            buf.clear();
            int len = r.write(buf, 0);

            KernelEventEncoder encoder = new KernelEventEncoder(rules, offset);
            encoder.encode(buf.array(), 0, len);

            KernelEvent k = KernelEvent.decode(buf, 0, len);
            Priority p = rules.priorityOf(k.path());
            Event reference = ReferenceEvents.toEvent(k, offset);
            reference = reference.getPriority() == p ? reference : reference.toBuilder().setPriority(p).build();
            byte[] got = Arrays.copyOf(encoder.bytes(), encoder.length());
            String where = "record " + i + " of seed " + seed + " (-Dencoder.seed=" + seed + "): " + k;
            assertArrayEquals(reference.toByteArray(), got, where);
            assertEquals(p, encoder.priority(), where);
        }
    }

    @Test
    void oneEncoderServesADrainedBatchRecordAfterRecordWithoutCarryingAnythingOver() {
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> starts = new ArrayList<>();
        int at = 0;
        while (at < (1 << 20) - 4 * 4096 * 4) {
            Record r = Record.random(random);
            starts.add(at);
            int len = r.write(buf, at + 4);
            buf.putInt(at, len);
            at += 4 + len;
        }
        Arrays.fill(buf.array(), at, buf.capacity(), (byte) 0x7f); // what an earlier, longer drain left behind
        PriorityRules rules = new PriorityRules(Priority.BULK, List.of(new PriorityRules.Rule("/", Priority.CRITICAL)));
        KernelEventEncoder encoder = new KernelEventEncoder(rules, 7);
        List<byte[]> got = new ArrayList<>();
        List<Priority> priorities = new ArrayList<>();
        int n = encoder.encodeAll(buf.array(), at, new Collect(got, priorities));

        assertEquals(starts.size(), n);
        assertEquals(starts.size(), got.size());
        for (int i = 0; i < starts.size(); i++) {
            int start = starts.get(i);
            KernelEvent k = KernelEvent.decode(buf, start + 4, buf.getInt(start));
            Priority p = rules.priorityOf(k.path());
            Event reference = ReferenceEvents.toEvent(k, 7).toBuilder().setPriority(p).build();
            assertArrayEquals(reference.toByteArray(), got.get(i), "record " + i + ": " + k);
            assertEquals(p, priorities.get(i), "record " + i);
        }
    }

    @Test
    void theLargestAndTheSmallestFileEventsTakeThreeAndOneLengthBytes() {
        // every path byte invalid UTF-8: each becomes U+FFFD, three bytes, so the file field is over 16 KiB
        Record largest = new Record();
        largest.path = new byte[KernelEvent.PATH_MAX - 1];
        largest.newPath = new byte[KernelEvent.PATH_MAX - 1];
        Arrays.fill(largest.path, (byte) 0xff);
        Arrays.fill(largest.newPath, (byte) 0xc3);
        Arrays.fill(largest.comm, (byte) 0x80);
        largest.kind = 5;
        largest.pid = -1;
        largest.ret = -1;
        Record smallest = new Record(); // every field zero: the file field is its source alone
        ByteBuffer buf = ByteBuffer.allocate(3 * KernelEvent.PATH_MAX).order(ByteOrder.LITTLE_ENDIAN);
        KernelEventEncoder encoder = new KernelEventEncoder(PriorityRules.defaults(), 0);
        for (Record r : List.of(largest, smallest)) {
            int len = r.write(buf, 0);
            encoder.encode(buf.array(), 0, len);
            Event reference = ReferenceEvents.toEvent(KernelEvent.decode(buf, 0, len), 0).toBuilder()
                    .setPriority(Priority.NORMAL).build();
            assertArrayEquals(reference.toByteArray(), Arrays.copyOf(encoder.bytes(), encoder.length()));
        }
        assertTrue(ReferenceEvents.toEvent(KernelEvent.decode(buf, 0, largest.write(buf, 0)), 0).getFile()
                .getSerializedSize() >= 1 << 14, "a length of three bytes");
    }

    @Test
    void aDrainedLengthThatRunsPastTheDrainedBytesIsRefused() {
        ByteBuffer buf = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        int len = abc().write(buf, 4);
        KernelEventEncoder encoder = new KernelEventEncoder(PriorityRules.defaults(), 0);
        List<byte[]> got = new ArrayList<>();
        Collect sink = new Collect(got, new ArrayList<>());
        for (int bad : new int[] {len + 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            buf.putInt(0, bad);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> encoder.encodeAll(buf.array(), 4 + len, sink));
            assertEquals("record of " + bad + " bytes at 0 runs past the " + (4 + len) + " bytes drained", e.getMessage());
        }
        assertEquals(0, got.size());
        buf.putInt(0, len);
        assertEquals(1, encoder.encodeAll(buf.array(), 4 + len, sink));
        assertEquals(0, encoder.encodeAll(buf.array(), 3, sink)); // less than a length: nothing
        assertEquals(1, got.size());
    }

    /** Keeps a copy of each encoded event, as the batcher does. */
    private record Collect(List<byte[]> events, List<Priority> priorities) implements EventSink {
        @Override
        public void event(Event event) {
            throw new AssertionError("the eBPF source hands encoded events only");
        }

        @Override
        public void encoded(Priority priority, byte[] bytes, int length) {
            events.add(Arrays.copyOf(bytes, length));
            priorities.add(priority);
        }
    }

    @Test
    void aRecordTooShortForItsHeaderOrPathsIsRefusedAsDecodingRefusesIt() {
        ByteBuffer buf = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        int len = abc().write(buf, 0);
        KernelEventEncoder encoder = new KernelEventEncoder(PriorityRules.defaults(), 0);
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(buf.array(), 0, len - 1));
        assertThrows(IllegalArgumentException.class, () -> encoder.encode(buf.array(), 0, KernelEvent.HEADER - 1));
        encoder.encode(buf.array(), 0, len); // and the whole record is fine
        assertEquals(Priority.NORMAL, encoder.priority());
    }

    /** A record of the path "/abc", every other field zero. */
    private static Record abc() {
        Record r = new Record();
        r.path = "/abc".getBytes(StandardCharsets.UTF_8);
        return r;
    }

    /** Rules for a path: none, or prefixes of it (matching, nested, empty), of other paths, or not ASCII. */
    private static PriorityRules rules(SplittableRandom random, byte[] path) {
        Priority[] ps = {Priority.CRITICAL, Priority.NORMAL, Priority.BULK};
        Priority dflt = ps[random.nextInt(3)];
        if (random.nextInt(3) == 0) {
            return new PriorityRules(dflt, List.of());
        }
        String text = new String(path, StandardCharsets.UTF_8);
        List<PriorityRules.Rule> rules = new ArrayList<>();
        for (int i = random.nextInt(1, 5); i > 0; i--) {
            String prefix = switch (random.nextInt(4)) {
                case 0 -> text.substring(0, random.nextInt(text.length() + 1));
                case 1 -> "/tmp/";
                case 2 -> "/é/";
                default -> "";
            };
            rules.add(new PriorityRules.Rule(prefix, ps[random.nextInt(3)]));
        }
        return new PriorityRules(dflt, rules);
    }

    /** One probe record's fields, written as struct hf_event is laid out. */
    static final class Record {
        long ts, cgroup, inode, dev, ret, arg;
        int pid, tid, ppid, uid, gid, mode, flags, kind, evflags, syscall;
        byte[] comm = new byte[KernelEvent.COMM_LEN];
        byte[] path = new byte[0];
        byte[] newPath = new byte[0];

        static Record random(SplittableRandom r) {
            Record x = new Record();
            x.ts = awkward(r);
            x.cgroup = awkward(r);
            x.inode = awkward(r);
            x.dev = awkward(r);
            x.ret = awkward(r);
            x.arg = awkward(r);
            x.pid = (int) awkward(r);
            x.tid = (int) awkward(r);
            x.ppid = (int) awkward(r);
            x.uid = (int) awkward(r);
            x.gid = (int) awkward(r);
            x.mode = (int) awkward(r);
            x.flags = (int) awkward(r);
            x.kind = r.nextInt(5) == 0 ? (int) awkward(r) : r.nextInt(0, 15);
            x.evflags = r.nextInt(64);
            x.syscall = r.nextInt(5) == 0 ? (int) awkward(r) : r.nextInt(-1, KernelEvent.SYSCALLS.size() + 2);
            x.path = text(r, r.nextInt(10) == 0 ? KernelEvent.PATH_MAX : 300);
            x.newPath = r.nextBoolean() ? new byte[0] : text(r, r.nextInt(10) == 0 ? KernelEvent.PATH_MAX : 300);
            byte[] comm = text(r, KernelEvent.COMM_LEN);
            Arrays.fill(x.comm, (byte) 0);
            System.arraycopy(comm, 0, x.comm, 0, comm.length);
            return x;
        }

        private static long awkward(SplittableRandom r) {
            return switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> -1;
                case 2 -> r.nextInt(1000);
                case 3 -> r.nextInt();
                case 4 -> Long.MIN_VALUE;
                default -> r.nextLong();
            };
        }

        /** Up to {@code max} bytes: ASCII, multi-byte UTF-8 of every length, or bytes UTF-8 does not allow. */
        private static byte[] text(SplittableRandom r, int max) {
            int n = r.nextInt(8) == 0 ? 0 : r.nextInt(1, max + 1);
            byte[] b = new byte[n];
            int shape = r.nextInt(4);
            String[] pieces = {"é", "日本", "😀", "/", "a", "Ω"};
            byte[][] invalid = {{(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xC3}, {(byte) 0xC0, (byte) 0x80},
                    {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                    {(byte) 0xE2, (byte) 0x82}, {0}};
            int i = 0;
            while (i < n) {
                byte[] piece = switch (shape) {
                    case 0 -> new byte[]{(byte) r.nextInt(0x20, 0x7F)};
                    case 1 -> pieces[r.nextInt(pieces.length)].getBytes(StandardCharsets.UTF_8);
                    case 2 -> r.nextInt(4) == 0 ? invalid[r.nextInt(invalid.length)] : new byte[]{(byte) 'x'};
                    default -> new byte[]{(byte) r.nextInt(256)};
                };
                int take = Math.min(piece.length, n - i); // a cut can leave a sequence unfinished: also invalid
                System.arraycopy(piece, 0, b, i, take);
                i += take;
            }
            return b;
        }

        /** Writes the record at absolute {@code at}; returns its length. */
        int write(ByteBuffer b, int at) {
            b.putLong(at + KernelEvent.OFF_TS, ts);
            b.putLong(at + KernelEvent.OFF_CGROUP, cgroup);
            b.putLong(at + KernelEvent.OFF_INODE, inode);
            b.putLong(at + KernelEvent.OFF_DEV, dev);
            b.putLong(at + KernelEvent.OFF_RET, ret);
            b.putLong(at + KernelEvent.OFF_ARG, arg);
            b.putInt(at + KernelEvent.OFF_PID, pid);
            b.putInt(at + KernelEvent.OFF_TID, tid);
            b.putInt(at + KernelEvent.OFF_PPID, ppid);
            b.putInt(at + KernelEvent.OFF_UID, uid);
            b.putInt(at + KernelEvent.OFF_GID, gid);
            b.putInt(at + KernelEvent.OFF_MODE, mode);
            b.putInt(at + KernelEvent.OFF_FLAGS, flags);
            b.putInt(at + KernelEvent.OFF_KIND, kind);
            b.putInt(at + KernelEvent.OFF_EVFLAGS, evflags);
            b.putInt(at + KernelEvent.OFF_SYSCALL, syscall);
            b.putShort(at + KernelEvent.OFF_PATH_LEN, (short) path.length);
            b.putShort(at + KernelEvent.OFF_NEW_PATH_LEN, (short) newPath.length);
            b.put(at + KernelEvent.OFF_COMM, comm);
            b.put(at + KernelEvent.HEADER, path);
            b.put(at + KernelEvent.HEADER + path.length, newPath);
            return KernelEvent.HEADER + path.length + newPath.length;
        }
    }

    @Test
    void everyKindTheProtocolKnowsKeepsItsNumberAndOthersBecomeUnspecified() {
        for (int k = -1; k <= 20; k++) {
            FileEvent.Kind kind = FileEvent.Kind.forNumber(k);
            assertEquals(kind == null ? 0 : k, KernelEvent.kindNumber(k), "kind " + k);
        }
    }
}
