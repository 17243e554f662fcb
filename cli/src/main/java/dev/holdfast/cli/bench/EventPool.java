package dev.holdfast.cli.bench;

import com.google.protobuf.CodedOutputStream;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Priority;

import java.util.Random;

/**
 * A fixed pool of pre-serialized {@link Event}s, each padded to (nearly) the requested size.
 *
 * <p>Building protobuf objects per event would cost more CPU than the intake spends persisting
 * them, so the generator serializes a few thousand realistic events once and afterwards only
 * copies bytes. Varying paths, pids and kinds keep the data from being trivially compressible.
 */
public final class EventPool {

    /** Attribute key whose value pads an event up to the target size. */
    static final String PAD_KEY = "pad";

    private static final String[] DIRS = {
            "/var/log/nginx", "/etc/systemd/system", "/home/deploy/app/releases/2024-11-03T10-12-55Z/lib",
            "/tmp/build-7f3a2c", "/usr/lib/x86_64-linux-gnu", "/var/lib/postgresql/15/main/base/16384",
            "/proc/self/fd", "/opt/holdfast/spool", "/srv/www/static/assets/img", "/root/.cache/pip/http"};
    private static final String[] NAMES = {
            "access.log", "error.log.1", "sshd_config", "libssl.so.3", "16412_fsm", "index.html",
            "main.o", "segment-000123.wal", "config.yaml", "id_ed25519.pub", "core.12345", "cron.daily"};
    private static final String[] COMMS = {
            "nginx", "postgres", "sshd", "python3", "java", "cc1", "systemd", "bash", "cron", "containerd-shim"};
    private static final FileEvent.Kind[] KINDS = {
            FileEvent.Kind.OPEN, FileEvent.Kind.MODIFY, FileEvent.Kind.CLOSE_WRITE, FileEvent.Kind.CREATE,
            FileEvent.Kind.UNLINK, FileEvent.Kind.RENAME, FileEvent.Kind.CHMOD};

    private final byte[][] events;
    private final int[] fieldSizes;

    private EventPool(byte[][] events) {
        this.events = events;
        this.fieldSizes = new int[events.length];
        for (int i = 0; i < events.length; i++) {
            fieldSizes[i] = CodedOutputStream.computeByteArraySize(BatchEncoder.EVENTS_FIELD, events[i]);
        }
    }

    /**
     * Builds {@code size} events of about {@code targetBytes} serialized bytes each.
     *
     * @throws IllegalArgumentException if {@code targetBytes} is below the smallest realistic event
     */
    public static EventPool build(int size, int targetBytes, Priority priority, long seed) {
        if (size < 1) {
            throw new IllegalArgumentException("pool size must be >= 1");
        }
        Random random = new Random(seed);
        long baseTime = System.currentTimeMillis() * 1_000_000L;
        byte[][] events = new byte[size][];
        for (int i = 0; i < size; i++) {
            Event unpadded = shrinkToFit(realisticEvent(random, baseTime + i * 1_000L, priority), targetBytes);
            events[i] = pad(unpadded, targetBytes).toByteArray();
        }
        return new EventPool(events);
    }

    /** The smallest --event-bytes value: kind, pid, comm and a truncated two-character path, empty pad. */
    public static int minimumEventBytes() {
        return Event.newBuilder()
                .setTimeUnixNano(1L)
                .setPriority(Priority.BULK)
                .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.RMDIR).setPath("/x").setPathTruncated(true)
                        .setPid(4_000_300).setComm(COMMS[COMMS.length - 1]))
                .putAttributes(PAD_KEY, "")
                .build()
                .getSerializedSize();
    }

    private static Event realisticEvent(Random random, long timeUnixNano, Priority priority) {
        FileEvent.Kind kind = KINDS[random.nextInt(KINDS.length)];
        String path = DIRS[random.nextInt(DIRS.length)] + "/" + NAMES[random.nextInt(NAMES.length)];
        int pid = 300 + random.nextInt(4_000_000);
        FileEvent.Builder file = FileEvent.newBuilder()
                .setKind(kind)
                .setPath(path)
                .setPid(pid)
                .setTid(pid + random.nextInt(16))
                .setPpid(1 + random.nextInt(pid))
                .setUid(random.nextBoolean() ? 0 : 1000 + random.nextInt(50))
                .setGid(random.nextBoolean() ? 0 : 1000 + random.nextInt(50))
                .setComm(COMMS[random.nextInt(COMMS.length)])
                .setCgroupId(random.nextLong() & Long.MAX_VALUE)
                .setInode(random.nextInt(1 << 30))
                .setDev(0x800000L + random.nextInt(64))
                .setMode(0100644)
                .setFlags(random.nextInt(0x80000))
                .setSource("ebpf");
        if (kind == FileEvent.Kind.RENAME) {
            file.setNewPath(path + ".1");
        }
        return Event.newBuilder()
                .setTimeUnixNano(timeUnixNano)
                .setPriority(priority)
                .setFile(file)
                .build();
    }

    /**
     * Small targets (below ~170 bytes) cannot hold every field: keep what an agent always sends
     * (kind, path, pid, comm) and, if even that is too big, the tail of the path, as a kernel-side
     * truncation would.
     */
    static Event shrinkToFit(Event event, int targetBytes) {
        if (withPad(event.toBuilder(), 0).getSerializedSize() <= targetBytes) {
            return event;
        }
        FileEvent full = event.getFile();
        FileEvent.Builder bare = FileEvent.newBuilder().setKind(full.getKind()).setPid(full.getPid())
                .setComm(full.getComm());
        Event.Builder base = event.toBuilder().setFile(bare.setPath(full.getPath()));
        String path = full.getPath();
        while (withPad(base, 0).getSerializedSize() > targetBytes && path.length() > 2) {
            path = "/" + path.substring(Math.min(path.length() - 1, 2));
            base.setFile(bare.setPath(path).setPathTruncated(true));
        }
        return base.build();
    }

    /**
     * Adds a padding attribute so the serialized size lands on the target. Varint length prefixes
     * grow at 128 and 16384 bytes, so an exact hit is not always possible; the result is the
     * largest size not above the target, or the smallest possible if the event is already bigger.
     */
    static Event pad(Event event, int targetBytes) {
        Event.Builder base = event.toBuilder();
        int padLen = Math.max(0, targetBytes - event.getSerializedSize() - 6);
        Event padded = withPad(base, padLen);
        while (padLen > 0 && padded.getSerializedSize() > targetBytes) {
            padded = withPad(base, --padLen);
        }
        while (withPad(base, padLen + 1).getSerializedSize() <= targetBytes) {
            padded = withPad(base, ++padLen);
        }
        return padded;
    }

    private static Event withPad(Event.Builder base, int padLen) {
        return base.clone().putAttributes(PAD_KEY, "x".repeat(padLen)).build();
    }

    public int size() {
        return events.length;
    }

    /** The serialized {@link Event}; callers must not modify it. */
    byte[] event(int index) {
        return events[index];
    }

    /** Bytes the event occupies as field 3 of an EventBatch (tag + length prefix + payload). */
    int fieldSize(int index) {
        return fieldSizes[index];
    }

    /** Average serialized event size, the figure reported as "payload bytes" per event. */
    double averageEventBytes() {
        long total = 0;
        for (byte[] e : events) {
            total += e.length;
        }
        return (double) total / events.length;
    }
}
