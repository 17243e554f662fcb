package dev.holdfast.shipper.source;

import static dev.holdfast.shipper.ebpf.KernelEvent.COMM_LEN;
import static dev.holdfast.shipper.ebpf.KernelEvent.HEADER;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_ARG;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_CGROUP;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_COMM;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_DEV;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_EVFLAGS;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_FLAGS;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_GID;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_INODE;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_KIND;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_MODE;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_NEW_PATH_LEN;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_PATH_LEN;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_PID;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_PPID;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_RET;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_SYSCALL;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_TID;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_TS;
import static dev.holdfast.shipper.ebpf.KernelEvent.OFF_UID;
import static dev.holdfast.shipper.ebpf.KernelEvent.PATH_MAX;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.PriorityRules;
import dev.holdfast.shipper.ebpf.KernelEvent;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Encodes the probe's records, read in place from the drain buffer, straight into the protocol's {@link Event} wire
 * format: the eBPF source's hot path. No object is made per event (no {@link KernelEvent}, no builders, no strings
 * for ASCII text), where decoding to objects, building messages and serialising them had taken most of the shipper's
 * CPU.
 *
 * <p>What it writes is what protobuf writes for the Event the record means: a {@link FileEvent} with source "ebpf",
 * wall-clock time, the "syscall" attribute and the kind's argument attribute ({@code chown.uid}/{@code chown.gid},
 * {@code truncate.length}, {@code chmod.requested_mode}), and the priority its path gets from the rules. Byte for
 * byte, fields in number order, map entries in insertion order, as {@code KernelEventEncoderTest} checks against that
 * reference built with the generated builders. Text is the kernel's bytes as they are when they are ASCII; anything
 * else goes through {@link String} as UTF-8, so invalid bytes become U+FFFD exactly as the reference makes them.
 *
 * <p>Not thread-safe: one per drain thread. The encoded event is valid until the next {@link #encode}.
 */
final class KernelEventEncoder {

    private static final byte[] SOURCE = ascii("ebpf");
    private static final byte[] SYSCALL = ascii("syscall");
    private static final byte[] CHOWN_UID = ascii("chown.uid");
    private static final byte[] CHOWN_GID = ascii("chown.gid");
    private static final byte[] TRUNCATE_LENGTH = ascii("truncate.length");
    private static final byte[] CHMOD_REQUESTED_MODE = ascii("chmod.requested_mode");
    private static final byte[][] SYSCALL_NAMES = KernelEvent.SYSCALLS.stream().map(KernelEventEncoder::ascii)
            .toArray(byte[][]::new);
    /** UTF-8 turns each invalid byte into U+FFFD, three bytes: the most a record's text can grow to. */
    private static final int MAX_EVENT = 256 + 3 * (2 * PATH_MAX + COMM_LEN) + 3 * 64;

    private final PriorityRules rules;
    private final long bootToRealtimeNanos;
    private final Text path = new Text();
    private final Text newPath = new Text();
    private final Text comm = new Text();
    /** Key, value, key, value...: at most three entries (syscall, chown.uid, chown.gid). */
    private final Text[] attributes = {new Text(), new Text(), new Text(), new Text(), new Text(), new Text()};
    private final byte[] out = new byte[MAX_EVENT];
    private int at;
    private int length;
    private Priority priority;

    /**
     * @param bootToRealtimeNanos added to the kernel's boot-clock timestamp ({@code EbpfProbe.bootToRealtimeOffsetNanos})
     */
    KernelEventEncoder(PriorityRules rules, long bootToRealtimeNanos) {
        this.rules = rules;
        this.bootToRealtimeNanos = bootToRealtimeNanos;
    }

    /**
     * Encodes the record of {@code len} bytes at index {@code at} of {@code rec}, little-endian as the probe wrote
     * it; {@link #bytes()}, {@link #length()} and {@link #priority()} then describe the Event. The record is read
     * from a heap array, not the direct drain buffer: the shipper runs C1 only, which left every typed read of a
     * direct buffer a chain of calls and took most of this method's time.
     *
     * @throws IllegalArgumentException when the record is too short for its header or its paths (a probe bug)
     */
    void encode(byte[] rec, int at, int len) {
        KernelEvent.checkHeader(len);
        int pathLen = u16(rec, at + OFF_PATH_LEN);
        int newLen = u16(rec, at + OFF_NEW_PATH_LEN);
        KernelEvent.checkPaths(len, pathLen, newLen);
        path.load(rec, at + HEADER, pathLen);
        newPath.load(rec, at + HEADER + pathLen, newLen);
        comm.load(rec, at + OFF_COMM, cStringLength(rec, at + OFF_COMM, COMM_LEN));
        priority = priorityOf(path);

        int kind = KernelEvent.kindNumber(i32(rec, at + OFF_KIND));
        int pid = i32(rec, at + OFF_PID);
        int tid = i32(rec, at + OFF_TID);
        int ppid = i32(rec, at + OFF_PPID);
        int uid = i32(rec, at + OFF_UID);
        int gid = i32(rec, at + OFF_GID);
        long cgroup = i64(rec, at + OFF_CGROUP);
        long inode = i64(rec, at + OFF_INODE);
        long dev = i64(rec, at + OFF_DEV);
        int mode = i32(rec, at + OFF_MODE);
        int flags = i32(rec, at + OFF_FLAGS);
        long ret = i64(rec, at + OFF_RET);
        boolean truncated = KernelEvent.pathTruncated(i32(rec, at + OFF_EVFLAGS));

        int entries = attributes(i32(rec, at + OFF_SYSCALL), kind, i64(rec, at + OFF_ARG));
        long time = i64(rec, at + OFF_TS) + bootToRealtimeNanos;

        this.at = 0;
        if (time != 0) {
            tag(Event.TIME_UNIX_NANO_FIELD_NUMBER, WireFormat.WIRETYPE_FIXED64);
            fixed64(time);
        }
        if (priority.getNumber() != 0) {
            tag(Event.PRIORITY_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT);
            varint(priority.getNumber());
        }
        for (int i = 0; i < entries; i += 2) {
            Text key = attributes[i];
            Text value = attributes[i + 1];
            tag(Event.ATTRIBUTES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            varint(lengthField(key.length) + lengthField(value.length)); // map entries carry key and value always
            text(1, key);
            text(2, value);
        }
        tag(Event.FILE_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        int fileAt = startLengthDelimited();
        uint32(1, kind);
        text(2, path);
        text(3, newPath);
        uint32(4, pid);
        uint32(5, tid);
        uint32(6, ppid);
        uint32(7, uid);
        uint32(8, gid);
        text(9, comm);
        uint64(10, cgroup);
        uint64(11, inode);
        uint64(12, dev);
        uint32(13, mode);
        uint32(14, flags);
        uint64(15, ret);
        if (truncated) {
            tag(16, WireFormat.WIRETYPE_VARINT);
            varint(1);
        }
        tag(17, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        varint(SOURCE.length);
        raw(SOURCE, SOURCE.length);
        endLengthDelimited(fileAt);
        this.length = this.at;
    }

    /**
     * Encodes every record of a drained batch, {@code [u32 length][record]...} in {@code rec[0, size)}, handing each
     * Event to {@code sink}; returns how many.
     */
    int encodeAll(byte[] rec, int size, EventSink sink) {
        int at = 0;
        int n = 0;
        while (at + 4 <= size) {
            int len = i32(rec, at);
            if (len < 0 || len > size - at - 4) {
                throw new IllegalArgumentException("record of " + len + " bytes at " + at + " runs past the "
                        + size + " bytes drained");
            }
            encode(rec, at + 4, len);
            sink.encoded(priority, out, length);
            at += 4 + len;
            n++;
        }
        return n;
    }

    /** The encoded Event: {@code bytes()[0, length())}. */
    byte[] bytes() {
        return out;
    }

    int length() {
        return length;
    }

    /** The priority written into the event, from the rules. */
    Priority priority() {
        return priority;
    }

    /** Fills {@link #attributes} with key, value pairs in the reference's order; returns how many texts it filled. */
    private int attributes(int syscall, int kind, long arg) {
        attributes[0].set(SYSCALL);
        attributes[1].set(syscall > 0 && syscall < SYSCALL_NAMES.length ? SYSCALL_NAMES[syscall] : SYSCALL_NAMES[0]);
        if (kind == FileEvent.Kind.CHOWN_VALUE) {
            attributes[2].set(CHOWN_UID);
            attributes[3].set(Integer.toString((int) (arg >>> 32)));
            attributes[4].set(CHOWN_GID);
            attributes[5].set(Integer.toString((int) arg));
            return 6;
        }
        if (kind == FileEvent.Kind.TRUNCATE_VALUE) {
            attributes[2].set(TRUNCATE_LENGTH);
            attributes[3].set(Long.toString(arg));
            return 4;
        }
        if (kind == FileEvent.Kind.CHMOD_VALUE && arg != 0) {
            attributes[2].set(CHMOD_REQUESTED_MODE);
            attributes[3].set(Long.toOctalString(arg));
            return 4;
        }
        return 2;
    }

    /** The rules decide on the path as a string; without rules (the default) no string is made. */
    private Priority priorityOf(Text p) {
        return rules.rules().isEmpty() ? rules.defaultPriority() : rules.priorityOf(p.string());
    }

    /** The encoded size of a length-delimited field numbered below 16 (a one-byte tag) holding {@code length} bytes. */
    private static int lengthField(int length) {
        return 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
    }

    /**
     * Leaves room for a length-delimited field's length and returns where it goes: the field is written before its
     * size is known, instead of computing every nested field's size first (which took a fifth of this encoder's time).
     * Three bytes hold any length below 2 MiB, and an event is at most {@link #MAX_EVENT} bytes.
     */
    private int startLengthDelimited() {
        int lengthAt = at;
        at += 3;
        return lengthAt;
    }

    /** Writes the length of the field started at {@code lengthAt}, and moves its bytes down if it took fewer than 3. */
    private void endLengthDelimited(int lengthAt) {
        int size = at - lengthAt - 3;
        int n = CodedOutputStream.computeUInt32SizeNoTag(size);
        if (n < 3) {
            System.arraycopy(out, lengthAt + 3, out, lengthAt + n, size);
        }
        at = lengthAt;
        varint(size);
        at = lengthAt + n + size;
    }

    private void uint32(int field, int value) {
        if (value != 0) {
            tag(field, WireFormat.WIRETYPE_VARINT);
            varint(Integer.toUnsignedLong(value));
        }
    }

    private void uint64(int field, long value) {
        if (value != 0) {
            tag(field, WireFormat.WIRETYPE_VARINT);
            varint(value);
        }
    }

    private void text(int field, Text t) {
        if (t.length != 0) {
            tag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            varint(t.length);
            raw(t.bytes, t.offset, t.length);
        }
    }

    private void tag(int field, int wireType) {
        int tag = (field << 3) | wireType; // WireFormat.makeTag, which protobuf keeps package-private
        if (field < 16) {
            out[at++] = (byte) tag;
        } else {
            varint(tag);
        }
    }

    // The writers work on locals: C1, the shipper's only compiler, reloads fields at every use.
    private void varint(long v) {
        byte[] o = out;
        int p = at;
        while ((v & ~0x7FL) != 0) {
            o[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        o[p++] = (byte) v;
        at = p;
    }

    private void fixed64(long v) {
        byte[] o = out;
        int p = at;
        for (int i = 0; i < 8; i++) {
            o[p + i] = (byte) (v >>> (8 * i));
        }
        at = p + 8;
    }

    private void raw(byte[] bytes, int length) {
        raw(bytes, 0, length);
    }

    private void raw(byte[] bytes, int from, int length) {
        System.arraycopy(bytes, from, out, at, length);
        at += length;
    }

    private static int u16(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
    }

    // Views of the record's bytes as little-endian ints and longs: under C1, a fifth faster per record than
    // assembling them from single bytes (KernelEventEncoderBench).
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static int i32(byte[] b, int i) {
        return (int) I32.get(b, i);
    }

    private static long i64(byte[] b, int i) {
        return (long) I64.get(b, i);
    }

    /** The length of the NUL-terminated text at {@code at}, at most {@code max} bytes. */
    private static int cStringLength(byte[] b, int at, int max) {
        int n = 0;
        while (n < max && b[at + n] != 0) {
            n++;
        }
        return n;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * One text field's UTF-8 bytes: the kernel's own, in the record where they are, when ASCII; else as a Java string
     * re-encodes them.
     */
    private static final class Text {
        byte[] bytes = new byte[0];
        int offset;
        int length;

        void load(byte[] rec, int at, int len) {
            bytes = rec;
            offset = at;
            length = len;
            if (!ascii(rec, at, len)) {
                set(new String(rec, at, len, StandardCharsets.UTF_8));
            }
        }

        /** No byte has its top bit set: eight at a time, then the rest one by one. */
        private static boolean ascii(byte[] b, int at, int len) {
            int i = at;
            int end = at + len;
            long high = 0;
            for (; i <= end - 8; i += 8) {
                high |= i64(b, i);
            }
            for (; i < end; i++) {
                high |= b[i];
            }
            return (high & 0x8080808080808080L) == 0;
        }

        void set(byte[] ascii) {
            bytes = ascii;
            offset = 0;
            length = ascii.length;
        }

        void set(String s) {
            set(s.getBytes(StandardCharsets.UTF_8)); // a decoded string has no lone surrogates: protobuf's bytes
        }

        String string() {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }
    }
}
