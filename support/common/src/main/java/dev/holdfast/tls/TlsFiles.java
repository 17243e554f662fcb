package dev.holdfast.tls;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PEM files of one TLS endpoint; {@code null} for a file not given.
 *
 * @param cert certificate chain, leaf first (a server always has one; a client only for mutual TLS)
 * @param key  the certificate's unencrypted PKCS#8 private key
 * @param ca   CA bundle, one or more certificates: whom a server accepts client certificates from, or whom a client
 *             trusts for the server's (null on a client: the JDK's default trust store)
 */
public record TlsFiles(Path cert, Path key, Path ca) {
    public TlsFiles {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("a TLS certificate needs its key and a key its certificate");
        }
    }

    public boolean hasKeyPair() {
        return cert != null;
    }

    /** Every file given, for watching. */
    public List<Path> all() {
        List<Path> out = new ArrayList<>();
        if (cert != null) out.add(cert);
        if (key != null) out.add(key);
        if (ca != null) out.add(ca);
        return out;
    }
}
