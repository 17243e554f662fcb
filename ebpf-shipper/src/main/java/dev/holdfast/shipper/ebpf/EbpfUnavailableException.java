package dev.holdfast.shipper.ebpf;

/**
 * eBPF cannot be used on this machine (not root, no kernel BTF, program type refused,
 * native library missing). {@link #getMessage()} is one line that says why; the shipper prints it.
 */
public final class EbpfUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public EbpfUnavailableException(String oneLine) {
        super(oneLine);
    }

    public EbpfUnavailableException(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }
}
