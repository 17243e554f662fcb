package dev.holdfast.shipper.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * The Java decoder's offsets must equal sizeof/offsetof of struct hf_event as compiled into the native library, and
 * its syscall-name table must follow enum hf_sys.
 */
class LayoutTest {
    @Test
    void decoderOffsetsMatchTheNativeStruct() throws Exception {
        NativeProbe.ensureLoaded();
        int[] expected = {
            KernelEvent.HEADER, KernelEvent.OFF_TS, KernelEvent.OFF_CGROUP, KernelEvent.OFF_INODE, KernelEvent.OFF_DEV,
            KernelEvent.OFF_RET, KernelEvent.OFF_ARG, KernelEvent.OFF_PID, KernelEvent.OFF_TID, KernelEvent.OFF_PPID,
            KernelEvent.OFF_UID, KernelEvent.OFF_GID, KernelEvent.OFF_MODE, KernelEvent.OFF_FLAGS, KernelEvent.OFF_KIND,
            KernelEvent.OFF_EVFLAGS, KernelEvent.OFF_SYSCALL, KernelEvent.OFF_PATH_LEN, KernelEvent.OFF_NEW_PATH_LEN,
            KernelEvent.OFF_COMM, KernelEvent.COMM_LEN, KernelEvent.PATH_MAX, 256, 32, Counters.COUNT, 16,
            KernelEvent.SYSCALLS.size(), KernelEvent.SYSCALLS.indexOf("renameat2"),
        };
        assertArrayEquals(expected, NativeProbe.layout(),
                "order: sizeof, offsets ts..comm, comm len, HF_PATH_MAX, HF_PREFIX_MAX, HF_NAME_MAX, HF_C__COUNT, HF_C_SLOTS, "
                + "number of enum hf_sys codes, S_RENAMEAT2");
    }
}
