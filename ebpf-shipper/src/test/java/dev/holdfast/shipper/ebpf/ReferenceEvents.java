package dev.holdfast.shipper.ebpf;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;

/**
 * The protocol's view of a probe record, built with the generated builders: the reference the eBPF source's
 * encoder ({@code KernelEventEncoder}) is held to byte for byte, and the readable statement of what each record
 * means on the wire.
 */
public final class ReferenceEvents {
    private ReferenceEvents() {
    }

    /** The protocol's FileEvent; source "ebpf". */
    public static FileEvent toFileEvent(KernelEvent k) {
        return FileEvent.newBuilder()
                .setKind(k.fileKind())
                .setPath(k.path())
                .setNewPath(k.newPath())
                .setPid(k.pid())
                .setTid(k.tid())
                .setPpid(k.ppid())
                .setUid(k.uid())
                .setGid(k.gid())
                .setComm(k.comm())
                .setCgroupId(k.cgroupId())
                .setInode(k.inode())
                .setDev(k.dev())
                .setMode(k.mode())
                .setFlags(k.flags())
                .setReturnValue(k.ret())
                .setPathTruncated(k.pathTruncated())
                .setSource("ebpf")
                .build();
    }

    /**
     * The FileEvent wrapped in an Event: wall-clock time from {@code bootToRealtimeNanos}, attribute "syscall", and
     * the kind-specific argument: "chown.uid"/"chown.gid" (-1 = unchanged), "truncate.length",
     * "chmod.requested_mode" (fchmod, octal).
     */
    public static Event toEvent(KernelEvent k, long bootToRealtimeNanos) {
        long arg = k.arg();
        Event.Builder e = Event.newBuilder().setTimeUnixNano(k.tsBootNanos() + bootToRealtimeNanos)
                .setFile(toFileEvent(k)).putAttributes("syscall", k.syscallName());
        switch (k.fileKind()) {
            case CHOWN -> e.putAttributes("chown.uid", Integer.toString((int) (arg >>> 32)))
                    .putAttributes("chown.gid", Integer.toString((int) arg));
            case TRUNCATE -> e.putAttributes("truncate.length", Long.toString(arg));
            case CHMOD -> {
                if (arg != 0) {
                    e.putAttributes("chmod.requested_mode", Long.toOctalString(arg));
                }
            }
            default -> {
            }
        }
        return e.build();
    }
}
