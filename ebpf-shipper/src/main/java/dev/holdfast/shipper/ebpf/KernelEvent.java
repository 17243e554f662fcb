package dev.holdfast.shipper.ebpf;

import dev.holdfast.protocol.v1.FileEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * One record of the probe, decoded from struct hf_event (src/main/c/holdfast_event.h): a 112-byte little-endian
 * header followed by path_len bytes of path and new_path_len bytes of new_path.
 */
public record KernelEvent(long tsBootNanos, long cgroupId, long inode, long dev, long ret, long arg, int pid, int tid,
                          int ppid, int uid, int gid, int mode, int flags, int kind, int evflags, int syscall,
                          String comm, String path, String newPath) {

    // Offsets in struct hf_event; LayoutTest checks them against the native library's offsetof(). Public for the
    // eBPF source's encoder, which reads records in place.
    public static final int OFF_TS = 0;
    public static final int OFF_CGROUP = 8;
    public static final int OFF_INODE = 16;
    public static final int OFF_DEV = 24;
    public static final int OFF_RET = 32;
    public static final int OFF_ARG = 40;
    public static final int OFF_PID = 48;
    public static final int OFF_TID = 52;
    public static final int OFF_PPID = 56;
    public static final int OFF_UID = 60;
    public static final int OFF_GID = 64;
    public static final int OFF_MODE = 68;
    public static final int OFF_FLAGS = 72;
    public static final int OFF_KIND = 76;
    public static final int OFF_EVFLAGS = 80;
    public static final int OFF_SYSCALL = 84;
    public static final int OFF_PATH_LEN = 88;
    public static final int OFF_NEW_PATH_LEN = 90;
    public static final int OFF_COMM = 92;
    public static final int COMM_LEN = 16;
    public static final int HEADER = 112;
    public static final int PATH_MAX = 4096;

    /** hf_event.evflags */
    public static final int PATH_TRUNCATED = 0x1;
    public static final int PATH_UNRESOLVED = 0x2;
    public static final int NEW_PATH_TRUNCATED = 0x4;
    public static final int NEW_PATH_UNRESOLVED = 0x8;
    public static final int FROM_FD = 0x10;
    public static final int USER_PATH = 0x20;

    /** enum hf_sys in src/main/c/holdfast_event.h, 1-based; "write" covers write, pwrite64, writev, pwritev, pwritev2. */
    public static final List<String> SYSCALLS = List.of("?", "open", "openat", "openat2", "creat", "write", "close", "dup2", "dup3", "rename",
            "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "chmod", "fchmod", "fchmodat",
            "fchmodat2", "chown", "lchown", "fchown", "fchownat", "truncate", "ftruncate", "link", "linkat",
            "symlink", "symlinkat");

    /** Decodes one record of {@code len} bytes at absolute index {@code at}. */
    public static KernelEvent decode(ByteBuffer buf, int at, int len) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        checkRecord(b, at, len);
        int pathLen = Short.toUnsignedInt(b.getShort(at + OFF_PATH_LEN));
        int newLen = Short.toUnsignedInt(b.getShort(at + OFF_NEW_PATH_LEN));
        return new KernelEvent(b.getLong(at + OFF_TS), b.getLong(at + OFF_CGROUP), b.getLong(at + OFF_INODE),
                b.getLong(at + OFF_DEV), b.getLong(at + OFF_RET), b.getLong(at + OFF_ARG), b.getInt(at + OFF_PID),
                b.getInt(at + OFF_TID), b.getInt(at + OFF_PPID), b.getInt(at + OFF_UID), b.getInt(at + OFF_GID),
                b.getInt(at + OFF_MODE), b.getInt(at + OFF_FLAGS), b.getInt(at + OFF_KIND), b.getInt(at + OFF_EVFLAGS),
                b.getInt(at + OFF_SYSCALL), cString(b, at + OFF_COMM, COMM_LEN), string(b, at + HEADER, pathLen),
                string(b, at + HEADER + pathLen, newLen));
    }

    /**
     * Decodes the batch that {@link EbpfProbe#drain(ByteBuffer)} left in {@code buf} (position 0 to limit:
     * [u32 length][record]...). Returns the number of records.
     */
    public static int decodeAll(ByteBuffer buf, Consumer<KernelEvent> sink) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int at = b.position();
        int end = b.limit();
        int n = 0;
        while (at + 4 <= end) {
            int len = b.getInt(at);
            sink.accept(decode(b, at + 4, len));
            at += 4 + len;
            n++;
        }
        return n;
    }

    /**
     * Checks that the record of {@code len} bytes at {@code at} ({@code b} little-endian) holds its header and the
     * paths its header announces.
     *
     * @throws IllegalArgumentException when it does not (a probe bug: the kernel side writes whole records)
     */
    public static void checkRecord(ByteBuffer b, int at, int len) {
        checkHeader(len);
        checkPaths(len, Short.toUnsignedInt(b.getShort(at + OFF_PATH_LEN)),
                Short.toUnsignedInt(b.getShort(at + OFF_NEW_PATH_LEN)));
    }

    /** The first half of {@link #checkRecord}: the record holds a header, so its path lengths can be read. */
    public static void checkHeader(int len) {
        if (len < HEADER) {
            throw new IllegalArgumentException("record of " + len + " bytes is shorter than the " + HEADER + "-byte header");
        }
    }

    /** The second half of {@link #checkRecord}: the header's path lengths fit in the record. */
    public static void checkPaths(int len, int pathLen, int newLen) {
        if (HEADER + pathLen + newLen > len) {
            throw new IllegalArgumentException("record of " + len + " bytes cannot hold paths of " + pathLen + "+" + newLen);
        }
    }

    /** The length of the NUL-terminated text at {@code at}, at most {@code max} bytes. */
    public static int cStringLength(ByteBuffer b, int at, int max) {
        int n = 0;
        while (n < max && b.get(at + n) != 0) {
            n++;
        }
        return n;
    }

    /** The protocol's FileEvent.Kind number for the probe's kind: the same numbers, 0 for any it does not know. */
    public static int kindNumber(int kind) {
        FileEvent.Kind k = FileEvent.Kind.forNumber(kind);
        return k == null || k == FileEvent.Kind.UNRECOGNIZED ? 0 : k.getNumber();
    }

    /** True when evflags say the kernel could not resolve the whole path (or new path): truncated or unresolved. */
    public static boolean pathTruncated(int evflags) {
        return (evflags & (PATH_TRUNCATED | PATH_UNRESOLVED | NEW_PATH_TRUNCATED | NEW_PATH_UNRESOLVED)) != 0;
    }

    private static String string(ByteBuffer b, int at, int len) {
        byte[] bytes = new byte[len];
        b.get(at, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static String cString(ByteBuffer b, int at, int max) {
        return string(b, at, cStringLength(b, at, max));
    }

    public FileEvent.Kind fileKind() {
        return FileEvent.Kind.forNumber(kindNumber(kind));
    }

    public String syscallName() {
        return syscall > 0 && syscall < SYSCALLS.size() ? SYSCALLS.get(syscall) : "?";
    }

    /** True when the kernel could not resolve the whole path (or new path): truncated or unresolved. */
    public boolean pathTruncated() {
        return pathTruncated(evflags);
    }
}
