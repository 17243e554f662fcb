package dev.holdfast.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager whose certificate and key can be replaced while handshakes run: each handshake asks for the alias
 * first and the key and chain by that alias after, so each generation has its own alias and the previous one is kept,
 * so a handshake that chose its alias just before a swap still gets a matching key and chain.
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private record Generation(String alias, KeyMaterial material) {}

    private final AtomicLong generations = new AtomicLong();
    private volatile Generation current;
    private volatile Generation previous;

    public ReloadingKeyManager(KeyMaterial initial) {
        current = next(initial);
    }

    /** New handshakes use {@code material} from now on; connections already established are not touched. */
    public synchronized void update(KeyMaterial material) {
        Generation g = next(material);
        previous = current;
        current = g;
    }

    public KeyMaterial material() {
        return current.material();
    }

    private Generation next(KeyMaterial m) {
        return new Generation("holdfast-" + generations.incrementAndGet(), Objects.requireNonNull(m, "material"));
    }

    private Generation find(String alias) {
        Generation c = current;
        if (c.alias().equals(alias)) return c;
        Generation p = previous;
        return p != null && p.alias().equals(alias) ? p : null;
    }

    /** keyType is "RSA", "EC", "RSASSA-PSS", ... or for old TLS 1.2 suites "EC_EC", "RSA_..."; one key, one type. */
    private String aliasFor(String... keyTypes) {
        Generation g = current;
        String algorithm = g.material().key().getAlgorithm();
        for (String keyType : keyTypes) {
            if (keyType != null && (keyType.equals(algorithm) || keyType.startsWith(algorithm + "_"))) {
                return g.alias();
            }
        }
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String a = aliasFor(keyType);
        return a == null ? null : new String[] {a};
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyTypes);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Generation g = find(alias);
        return g == null ? null : g.material().chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Generation g = find(alias);
        return g == null ? null : g.material().key();
    }
}
