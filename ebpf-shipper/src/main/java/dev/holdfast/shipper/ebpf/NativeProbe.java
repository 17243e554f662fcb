package dev.holdfast.shipper.ebpf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** JNI entry points of libholdfast_ebpf.so (src/main/c/holdfast_jni.c). Not thread-safe per handle. */
final class NativeProbe {
    static final String LIB_PROPERTY = "holdfast.ebpf.lib";
    private static final String RESOURCE = "/native/libholdfast_ebpf.so";
    private static volatile boolean loaded;
    private static String loadError;

    private NativeProbe() {
    }

    /**
     * Loads the library: from {@code -Dholdfast.ebpf.lib=FILE} when set, else extracted from the jar
     * (native/libholdfast_ebpf.so) to a temporary file.
     */
    static synchronized void ensureLoaded() throws EbpfUnavailableException {
        if (loaded) {
            return;
        }
        if (loadError != null) {
            throw new EbpfUnavailableException(loadError);
        }
        try {
            String explicit = System.getProperty(LIB_PROPERTY);
            if (explicit != null && !explicit.isBlank()) {
                System.load(Path.of(explicit).toAbsolutePath().toString());
            } else {
                try (InputStream in = NativeProbe.class.getResourceAsStream(RESOURCE)) {
                    if (in == null) {
                        throw new IOException("resource " + RESOURCE + " not in the jar (the module was built without its native part)");
                    }
                    Path tmp = Files.createTempFile("holdfast-ebpf-", ".so");
                    tmp.toFile().deleteOnExit();
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    System.load(tmp.toString());
                }
            }
            loaded = true;
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            loadError = "eBPF unavailable: cannot load the native library libholdfast_ebpf.so: "
                    + String.valueOf(e.getMessage()).replace('\n', ' ');
            throw new EbpfUnavailableException(loadError, e);
        }
    }

    static native long load(int ringBytes) throws EbpfUnavailableException;

    static native void attach(long handle) throws EbpfUnavailableException;

    /** Returns (records << 32) | bytes. */
    static native long drain(long handle, ByteBuffer direct, int capacity, int timeoutMillis) throws EbpfUnavailableException;

    static native void counters(long handle, long[] out);

    static native void config(long handle, int selfTgid, int flags, int includePrefixes, int includeNames, long modifyIntervalNanos);

    static native void prefix(long handle, boolean exclude, byte[] prefix, boolean add);

    static native void name(long handle, byte[] name, int action);

    static native void comm(long handle, byte[] comm, boolean add);

    static native void close(long handle);

    static native long bootToRealtimeOffsetNanos();

    /** sizeof(struct hf_event), field offsets, then constants: in the order of its native side in holdfast_jni.c. */
    static native int[] layout();
}
