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
import java.nio.ByteBuffer;
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
    private final Text path = new Text(PATH_MAX);
    private final Text newPath = new Text(PATH_MAX);
    private final Text comm = new Text(COMM_LEN);
    /** Key, value, key, value...: at most three entries (syscall, chown.uid, chown.gid). */
    private final Text[] attributes = {new Text(0), new Text(0), new Text(0), new Text(0), new Text(0), new Text(0)};
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
     * Encodes the record of {@code len} bytes at absolute index {@code at} of {@code buf}; {@link #bytes()},
     * {@link #length()} and {@link #priority()} then describe the Event.
     *
     * @throws IllegalArgumentException when the record is too short for its header or its paths (a probe bug)
     */
    void encode(ByteBuffer buf, int at, int len) {
        ByteBuffer b = buf.order() == ByteOrder.LITTLE_ENDIAN ? buf : buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        KernelEvent.checkRecord(b, at, len);
        int pathLen = Short.toUnsignedInt(b.getShort(at + OFF_PATH_LEN));
        int newLen = Short.toUnsignedInt(b.getShort(at + OFF_NEW_PATH_LEN));
        path.load(b, at + HEADER, pathLen);
        newPath.load(b, at + HEADER + pathLen, newLen);
        comm.load(b, at + OFF_COMM, KernelEvent.cStringLength(b, at + OFF_COMM, COMM_LEN));
        priority = priorityOf(path);

        int kind = KernelEvent.kindNumber(b.getInt(at + OFF_KIND));
        int pid = b.getInt(at + OFF_PID);
        int tid = b.getInt(at + OFF_TID);
        int ppid = b.getInt(at + OFF_PPID);
        int uid = b.getInt(at + OFF_UID);
        int gid = b.getInt(at + OFF_GID);
        long cgroup = b.getLong(at + OFF_CGROUP);
        long inode = b.getLong(at + OFF_INODE);
        long dev = b.getLong(at + OFF_DEV);
        int mode = b.getInt(at + OFF_MODE);
        int flags = b.getInt(at + OFF_FLAGS);
        long ret = b.getLong(at + OFF_RET);
        boolean truncated = KernelEvent.pathTruncated(b.getInt(at + OFF_EVFLAGS));

        int file = uint32Field(1, kind) + textField(2, path) + textField(3, newPath) + uint32Field(4, pid)
                + uint32Field(5, tid) + uint32Field(6, ppid) + uint32Field(7, uid) + uint32Field(8, gid)
                + textField(9, comm) + uint64Field(10, cgroup) + uint64Field(11, inode) + uint64Field(12, dev)
                + uint32Field(13, mode) + uint32Field(14, flags) + uint64Field(15, ret) + (truncated ? 3 : 0)
                + bytesField(17, SOURCE.length);

        int entries = attributes(b.getInt(at + OFF_SYSCALL), kind, b.getLong(at + OFF_ARG));
        long time = b.getLong(at + OFF_TS) + bootToRealtimeNanos;

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
            varint(bytesField(1, key.length) + bytesField(2, value.length)); // map entries carry key and value always
            text(1, key);
            text(2, value);
        }
        tag(Event.FILE_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        varint(file);
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
        this.length = this.at;
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

    private static int uint32Field(int field, int value) {
        return value == 0 ? 0 : CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(value);
    }

    private static int uint64Field(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt64SizeNoTag(value);
    }

    private static int textField(int field, Text t) {
        return t.length == 0 ? 0 : bytesField(field, t.length);
    }

    private static int bytesField(int field, int length) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
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
            raw(t.bytes, t.length);
        }
    }

    private void tag(int field, int wireType) {
        varint((field << 3) | wireType); // WireFormat.makeTag, which protobuf keeps package-private
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out[at++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[at++] = (byte) v;
    }

    private void fixed64(long v) {
        for (int i = 0; i < 8; i++) {
            out[at++] = (byte) (v >>> (8 * i));
        }
    }

    private void raw(byte[] bytes, int length) {
        System.arraycopy(bytes, 0, out, at, length);
        at += length;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** One text field's UTF-8 bytes: the kernel's own when ASCII, else as a Java string re-encodes them. */
    private static final class Text {
        private final byte[] scratch;
        byte[] bytes;
        int length;

        Text(int capacity) {
            this.scratch = new byte[capacity];
        }

        void load(ByteBuffer b, int at, int len) {
            b.get(at, scratch, 0, len);
            bytes = scratch;
            length = len;
            for (int i = 0; i < len; i++) {
                if (scratch[i] < 0) {
                    set(new String(scratch, 0, len, StandardCharsets.UTF_8));
                    return;
                }
            }
        }

        void set(byte[] ascii) {
            bytes = ascii;
            length = ascii.length;
        }

        void set(String s) {
            set(s.getBytes(StandardCharsets.UTF_8)); // a decoded string has no lone surrogates: protobuf's bytes
        }

        String string() {
            return new String(bytes, 0, length, StandardCharsets.UTF_8);
        }
    }
}
