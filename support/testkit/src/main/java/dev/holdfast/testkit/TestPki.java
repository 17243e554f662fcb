package dev.holdfast.testkit;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A certificate authority made at test time, and the certificates it issues, written as PEM files (certificate,
 * PKCS#8 private key, CA bundle) the way an operator would hand them to Holdfast. Keys are EC P-256 (fast to make).
 *
 * <pre>{@code
 * TestPki ca = TestPki.create(dir, "holdfast-test-ca");
 * TestPki.Issued server = ca.server("intake", "localhost", "127.0.0.1");
 * TestPki.Issued agent = ca.client("agent-7");                        // identity = CN
 * TestPki.Issued gateway = ca.client("gw", "dns:gw.example", "uri:spiffe://example/gw");
 * TestPki.Issued old = ca.issue(TestPki.Spec.client("agent-7").validFor(Instant.now().minus(2, DAYS), Duration.ofDays(1)));
 * }</pre>
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** One issued certificate: its PEM files and the objects behind them. */
    public record Issued(String name, Path cert, Path key, X509Certificate certificate, PrivateKey privateKey) {
    }

    /**
     * What to issue.
     *
     * @param sans subject alternative names: {@code dns:NAME}, {@code ip:ADDRESS}, {@code uri:URI}; a bare value is
     *             DNS unless it looks like an IPv4 address
     */
    public record Spec(String fileName, String commonName, List<String> sans, boolean serverAuth, boolean clientAuth,
                       Instant notBefore, Instant notAfter) {
        public static Spec server(String commonName, String... sans) {
            return new Spec(commonName, commonName, List.of(sans), true, false, Instant.now().minus(Duration.ofHours(1)),
                    Instant.now().plus(Duration.ofDays(30)));
        }

        public static Spec client(String commonName, String... sans) {
            return new Spec(commonName, commonName, List.of(sans), false, true, Instant.now().minus(Duration.ofHours(1)),
                    Instant.now().plus(Duration.ofDays(30)));
        }

        /** The same certificate valid from {@code from} for {@code length} (in the past: an expired one). */
        public Spec validFor(Instant from, Duration length) {
            return new Spec(fileName, commonName, sans, serverAuth, clientAuth, from, from.plus(length));
        }

        /** Files named {@code NAME.pem} and {@code NAME.key} (default: the common name). */
        public Spec named(String name) {
            return new Spec(name, commonName, sans, serverAuth, clientAuth, notBefore, notAfter);
        }
    }

    private final Path dir;
    private final String name;
    private final KeyPair caKeys;
    private final X509Certificate caCert;
    private final Path caFile;

    private TestPki(Path dir, String name, KeyPair caKeys, X509Certificate caCert, Path caFile) {
        this.dir = dir;
        this.name = name;
        this.caKeys = caKeys;
        this.caCert = caCert;
        this.caFile = caFile;
    }

    /** A new self-signed CA; its certificate is written to {@code DIR/NAME.ca.pem}. */
    public static TestPki create(Path dir, String name) {
        try {
            Files.createDirectories(dir);
            KeyPair keys = newKeys();
            X500Name subject = dn(name);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))), subject,
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate cert = sign(b, keys.getPrivate());
            Path file = dir.resolve(name + ".ca.pem");
            Files.writeString(file, pem("CERTIFICATE", cert.getEncoded()));
            return new TestPki(dir, name, keys, cert, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The CA certificate's PEM file: what a peer trusts. */
    public Path caCert() {
        return caFile;
    }

    public X509Certificate caCertificate() {
        return caCert;
    }

    public String name() {
        return name;
    }

    /** A server certificate (serverAuth) named by {@code commonName}, with these SANs (e.g. localhost, 127.0.0.1). */
    public Issued server(String commonName, String... sans) {
        return issue(Spec.server(commonName, sans));
    }

    /** A client certificate (clientAuth): the identity is the CN, or one of the SANs given. */
    public Issued client(String commonName, String... sans) {
        return issue(Spec.client(commonName, sans));
    }

    public Issued issue(Spec spec) {
        try {
            KeyPair keys = newKeys();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(),
                    Date.from(spec.notBefore()), Date.from(spec.notAfter()), dn(spec.commonName()), keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            List<KeyPurposeId> purposes = new ArrayList<>();
            if (spec.serverAuth()) purposes.add(KeyPurposeId.id_kp_serverAuth);
            if (spec.clientAuth()) purposes.add(KeyPurposeId.id_kp_clientAuth);
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            if (!spec.sans().isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(spec.sans().stream().map(TestPki::generalName).toArray(GeneralName[]::new)));
            }
            X509Certificate cert = sign(b, caKeys.getPrivate());
            Path certFile = dir.resolve(spec.fileName() + ".pem");
            Path keyFile = dir.resolve(spec.fileName() + ".key");
            Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
            return new Issued(spec.fileName(), certFile, keyFile, cert, keys.getPrivate());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PEM text of one DER object, 64 columns, as openssl writes it. */
    public static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static GeneralName generalName(String san) {
        if (san.startsWith("dns:")) return new GeneralName(GeneralName.dNSName, san.substring(4));
        if (san.startsWith("ip:")) return new GeneralName(GeneralName.iPAddress, san.substring(3));
        if (san.startsWith("uri:")) return new GeneralName(GeneralName.uniformResourceIdentifier, san.substring(4));
        return san.matches("\\d+\\.\\d+\\.\\d+\\.\\d+") ? new GeneralName(GeneralName.iPAddress, san)
                : new GeneralName(GeneralName.dNSName, san);
    }

    private static X500Name dn(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Holdfast tests")
                .addRDN(BCStyle.CN, commonName).build();
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            X509CertificateHolder holder = b.build(signer);
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
