package dev.holdfast.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager over a CA bundle that can be replaced while handshakes run. Each check goes to the JDK's PKIX trust
 * manager of the bundle current at that moment, so path building, validity dates, and (on clients, with gRPC's
 * endpoint identification set on the engine) host name verification are the JDK's own.
 */
public final class ReloadingTrustManager extends X509ExtendedTrustManager {
    private volatile X509ExtendedTrustManager delegate;

    public ReloadingTrustManager(X509ExtendedTrustManager initial) {
        delegate = Objects.requireNonNull(initial, "initial");
    }

    /** A PKIX trust manager trusting every certificate of {@code bundle} (a CA bundle file's contents). */
    public static X509ExtendedTrustManager parse(Path file, byte[] bundle) {
        List<X509Certificate> cas = PemFiles.certificates(file, bundle);
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                ks.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new TlsFileException(file, "the JDK offers no X509 trust manager");
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsFileException(file, "cannot be used as a CA bundle: " + e.getMessage(), e);
        }
    }

    /** New handshakes are checked against {@code next}; established connections are not touched. */
    public void update(X509ExtendedTrustManager next) {
        delegate = Objects.requireNonNull(next, "next");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
