package dev.holdfast.tls;

import java.nio.file.Path;
import java.security.cert.X509Certificate;

/** Told about reloads, so the caller can count them in its own metrics registry. */
public interface TlsListener {
    /** A changed certificate and key passed every check and is now presented by new handshakes. */
    default void certificateReloaded(X509Certificate leaf) {}

    /** A changed CA bundle is now used for new handshakes. */
    default void trustReloaded() {}

    /** A changed file could not be used; the last good material stays in use. */
    default void reloadFailed(Path file, String reason) {}

    TlsListener NONE = new TlsListener() {};
}
