package dev.holdfast.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses PEM text: certificate chains and CA bundles ({@code CERTIFICATE} blocks, any number) and unencrypted PKCS#8
 * private keys ({@code PRIVATE KEY}). It works on bytes already read, so that a reload parses exactly the content it
 * hashed, not a file that may have changed in between.
 */
public final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** Tried in turn: a PKCS#8 blob names its algorithm only by OID, and these are what TLS keys are. */
    private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS");

    private PemFiles() {}

    /** Every {@code CERTIFICATE} block, in file order (leaf first for a chain). */
    public static List<X509Certificate> certificates(Path file, byte[] content) {
        List<X509Certificate> certs = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file, content)) {
                if (b.type.equals("CERTIFICATE")) {
                    certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der)));
                }
            }
        } catch (CertificateException e) {
            throw new TlsFileException(file, "not a valid X.509 certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
            throw new TlsFileException(file, "no PEM CERTIFICATE block found");
        }
        return certs;
    }

    /** The one {@code PRIVATE KEY} block; other key formats get an error that says how to convert them. */
    public static PrivateKey privateKey(Path file, byte[] content) {
        for (Block b : blocks(file, content)) {
            switch (b.type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(file, b.der);
                }
                case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> throw new TlsFileException(file, "a " + b.type
                        + " (PKCS#1/SEC1) key; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in " + file
                        + " -out " + file + ".pk8");
                case "ENCRYPTED PRIVATE KEY" -> throw new TlsFileException(file, "an encrypted private key; "
                        + "write it unencrypted (readable by this user only): openssl pkcs8 -topk8 -nocrypt -in "
                        + file + " -out " + file + ".pk8");
                default -> { } // e.g. EC PARAMETERS before the key, as openssl ecparam writes it
            }
        }
        throw new TlsFileException(file, "no PEM PRIVATE KEY block found");
    }

    private static PrivateKey pkcs8(Path file, byte[] der) {
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // not this algorithm; try the next
            }
        }
        throw new TlsFileException(file, "PRIVATE KEY is not a PKCS#8 " + String.join("/", KEY_ALGORITHMS) + " key");
    }

    private record Block(String type, byte[] der) {}

    private static List<Block> blocks(Path file, byte[] content) {
        String text = new String(content, StandardCharsets.US_ASCII);
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new TlsFileException(file, "bad base64 in PEM block " + m.group(1), e);
            }
        }
        if (out.isEmpty()) {
            throw new TlsFileException(file, content.length == 0 ? "empty file" : "not PEM (no -----BEGIN ...----- block)");
        }
        return out;
    }
}
