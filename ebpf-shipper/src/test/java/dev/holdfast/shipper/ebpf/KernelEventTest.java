package dev.holdfast.shipper.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KernelEventTest {

    static void put(ByteBuffer b, int kind, String path, String newPath, int evflags, long arg) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        byte[] n = newPath.getBytes(StandardCharsets.UTF_8);
        int at = b.position();
        b.putInt(at, KernelEvent.HEADER + p.length + n.length);
        int r = at + 4;
        b.putLong(r + KernelEvent.OFF_TS, 1_000L);
        b.putLong(r + KernelEvent.OFF_CGROUP, 77L);
        b.putLong(r + KernelEvent.OFF_INODE, 12345L);
        b.putLong(r + KernelEvent.OFF_DEV, 0x801L);
        b.putLong(r + KernelEvent.OFF_RET, 3L);
        b.putLong(r + KernelEvent.OFF_ARG, arg);
        b.putInt(r + KernelEvent.OFF_PID, 100);
        b.putInt(r + KernelEvent.OFF_TID, 101);
        b.putInt(r + KernelEvent.OFF_PPID, 1);
        b.putInt(r + KernelEvent.OFF_UID, 1000);
        b.putInt(r + KernelEvent.OFF_GID, 1001);
        b.putInt(r + KernelEvent.OFF_MODE, 0100644);
        b.putInt(r + KernelEvent.OFF_FLAGS, 0101);
        b.putInt(r + KernelEvent.OFF_KIND, kind);
        b.putInt(r + KernelEvent.OFF_EVFLAGS, evflags);
        b.putInt(r + KernelEvent.OFF_SYSCALL, KernelEvent.SYSCALLS.indexOf("renameat2"));
        b.putShort(r + KernelEvent.OFF_PATH_LEN, (short) p.length);
        b.putShort(r + KernelEvent.OFF_NEW_PATH_LEN, (short) n.length);
        byte[] comm = "mv".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 16; i++) {
            b.put(r + KernelEvent.OFF_COMM + i, i < comm.length ? comm[i] : 0);
        }
        b.put(r + KernelEvent.HEADER, p);
        b.put(r + KernelEvent.HEADER + p.length, n);
        b.position(r + KernelEvent.HEADER + p.length + n.length);
    }

    @Test
    void decodesABatchAndConvertsToTheProtocol() {
        ByteBuffer b = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
        put(b, 5, "/data/a", "/data/é", 0, 0);
        put(b, 8, "/data/x", "", KernelEvent.PATH_TRUNCATED, (1000L << 32) | 0xffffffffL);
        b.flip();
        List<KernelEvent> out = new ArrayList<>();
        assertEquals(2, KernelEvent.decodeAll(b, out::add));

        KernelEvent rename = out.get(0);
        assertEquals("/data/a", rename.path());
        assertEquals("/data/é", rename.newPath());
        assertEquals("mv", rename.comm());
        assertEquals("renameat2", rename.syscallName());
        FileEvent f = ReferenceEvents.toFileEvent(rename);
        assertEquals(FileEvent.Kind.RENAME, f.getKind());
        assertEquals("ebpf", f.getSource());
        assertEquals(100, f.getPid());
        assertEquals(101, f.getTid());
        assertEquals(1, f.getPpid());
        assertEquals(1000, f.getUid());
        assertEquals(1001, f.getGid());
        assertEquals(77, f.getCgroupId());
        assertEquals(12345, f.getInode());
        assertEquals(0x801, f.getDev());
        assertEquals(0100644, f.getMode());
        assertEquals(0101, f.getFlags());
        assertEquals(3, f.getReturnValue());
        assertFalse(f.getPathTruncated());

        KernelEvent chown = out.get(1);
        assertTrue(ReferenceEvents.toFileEvent(chown).getPathTruncated());
        Event e = ReferenceEvents.toEvent(chown, 5_000L);
        assertEquals(6_000L, e.getTimeUnixNano());
        assertEquals(FileEvent.Kind.CHOWN, e.getFile().getKind());
        assertEquals("1000", e.getAttributesMap().get("chown.uid"));
        assertEquals("-1", e.getAttributesMap().get("chown.gid"));
    }

    @Test
    void rejectsARecordTooShortForItsPaths() {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        put(b, 1, "/abc", "", 0, 0);
        assertThrows(IllegalArgumentException.class, () -> KernelEvent.decode(b, 4, KernelEvent.HEADER + 2));
    }

    @Test
    void everyKernelKindMapsToAProtocolKind() {
        for (int k = 1; k <= 13; k++) {
            KernelEvent e = new KernelEvent(0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, k, 0, 1, "c", "/p", "");
            assertEquals(k, ReferenceEvents.toFileEvent(e).getKind().getNumber());
        }
    }

    @Test
    void configAndFiltersValidate() {
        assertThrows(IllegalArgumentException.class, () -> ProbeConfig.defaults().withRingBufferBytes(5000));
        assertThrows(IllegalArgumentException.class, () -> Filters.defaults().withExcludePrefixes(Set.of("tmp/")));
        assertThrows(IllegalArgumentException.class, () -> Filters.defaults().withExcludeComms(Set.of("a-very-long-process-name")));
        assertThrows(IllegalArgumentException.class, () -> Filters.defaults().withIncludePrefixes(Set.of("/" + "x".repeat(256))));
        assertEquals(Set.of("/proc/", "/sys/", "/dev/"), Filters.defaults().excludePrefixes());
    }
}
