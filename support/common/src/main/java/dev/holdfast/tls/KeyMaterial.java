package dev.holdfast.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A certificate chain and its private key, checked to belong together and to be valid now: what a key manager
 * presents. Loading never half-succeeds, so a bad new file can never replace good material.
 */
public record KeyMaterial(X509Certificate[] chain, PrivateKey key) {

    /** The certificate presented (the chain's first). */
    public X509Certificate leaf() {
        return chain[0];
    }

    /**
     * Parses and checks the contents of a certificate-chain file and a key file.
     *
     * @throws TlsFileException naming the file at fault: unparseable, key not matching, expired or not yet valid
     */
    public static KeyMaterial parse(Path certFile, byte[] certPem, Path keyFile, byte[] keyPem, Instant now) {
        List<X509Certificate> chain = PemFiles.certificates(certFile, certPem);
        PrivateKey key = PemFiles.privateKey(keyFile, keyPem);
        X509Certificate leaf = chain.get(0);
        if (!matches(key, leaf.getPublicKey())) {
            throw new TlsFileException(keyFile, "the private key does not match the certificate in " + certFile
                    + " (subject " + leaf.getSubjectX500Principal().getName() + ")");
        }
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new TlsFileException(certFile, "the certificate expired at " + leaf.getNotAfter().toInstant()
                    + " (subject " + leaf.getSubjectX500Principal().getName() + ")");
        }
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new TlsFileException(certFile, "the certificate is not valid before "
                    + leaf.getNotBefore().toInstant() + " (check the clock)");
        }
        return new KeyMaterial(chain.toArray(X509Certificate[]::new), key);
    }

    /** Signs with the private key and verifies with the certificate's public key: the only check every key type has. */
    private static boolean matches(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        try {
            byte[] probe = "holdfast key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
