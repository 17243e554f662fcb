package dev.holdfast.tls;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadingTlsTest {
    @TempDir
    Path tmp;

    private final List<String> failures = new ArrayList<>();
    private final List<X509Certificate> reloaded = new ArrayList<>();
    private final TlsListener listener = new TlsListener() {
        @Override
        public void certificateReloaded(X509Certificate leaf) {
            reloaded.add(leaf);
        }

        @Override
        public void reloadFailed(Path file, String reason) {
            failures.add(file.getFileName() + ": " + reason);
        }
    };

    private static X509Certificate presented(ReloadingTls tls) {
        return tls.keyManager().material().leaf();
    }

    @Test
    void aNewCertificateAndKeyAreSwappedInAndABadOneKeepsTheLastGood() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "ca");
        TestPki.Issued first = pki.server("intake", "localhost");
        Path cert = tmp.resolve("tls.crt");
        Path key = tmp.resolve("tls.key");
        Files.copy(first.cert(), cert);
        Files.copy(first.key(), key);
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(cert, key, pki.caCert()), Clock.systemUTC(), listener);
        assertEquals(first.certificate(), presented(tls));
        String alias = tls.keyManager().chooseEngineServerAlias("EC", null, null);

        tls.checkNow(); // nothing changed: nothing happens
        assertTrue(reloaded.isEmpty() && failures.isEmpty());

        TestPki.Issued second = pki.server("intake", "localhost");
        Files.copy(second.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
        tls.checkNow(); // new certificate, old key: refused, the first stays
        assertEquals(first.certificate(), presented(tls));
        assertEquals(1, failures.size(), failures.toString());
        assertTrue(failures.get(0).contains("does not match the certificate"), failures.toString());
        tls.checkNow(); // the same bad content is reported once
        assertEquals(1, failures.size());

        Files.copy(second.key(), key, StandardCopyOption.REPLACE_EXISTING);
        tls.checkNow();
        assertEquals(second.certificate(), presented(tls));
        assertEquals(List.of(second.certificate()), reloaded);
        // a handshake that chose its alias just before the swap still gets a matching chain and key
        assertEquals(first.certificate(), tls.keyManager().getCertificateChain(alias)[0]);
        assertEquals(first.privateKey(), tls.keyManager().getPrivateKey(alias));

        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n");
        tls.checkNow();
        assertEquals(second.certificate(), presented(tls));
        assertEquals(2, failures.size());
        assertTrue(failures.get(1).startsWith("tls.crt: "), failures.toString());
    }

    @Test
    void anExpiredCertificateIsRefusedAtStartAndOnReload() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "ca");
        TestPki.Issued expired = pki.issue(TestPki.Spec.server("intake", "localhost").named("old")
                .validFor(Instant.now().minus(Duration.ofDays(2)), Duration.ofDays(1)));
        TlsFileException e = assertThrows(TlsFileException.class, () -> ReloadingTls.load(
                new TlsFiles(expired.cert(), expired.key(), null), Clock.systemUTC(), listener));
        assertTrue(e.getMessage().startsWith(expired.cert() + ": the certificate expired at"), e.getMessage());

        TestPki.Issued good = pki.server("intake", "localhost");
        Path cert = tmp.resolve("tls.crt");
        Path key = tmp.resolve("tls.key");
        Files.copy(good.cert(), cert);
        Files.copy(good.key(), key);
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(cert, key, null), Clock.systemUTC(), listener);
        Files.copy(expired.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(expired.key(), key, StandardCopyOption.REPLACE_EXISTING);
        tls.checkNow();
        assertEquals(good.certificate(), presented(tls));
        assertEquals(1, failures.size());
        assertTrue(failures.get(0).contains("expired"), failures.toString());
    }

    /** Kubernetes: tls.crt -> ..data/tls.crt, ..data -> ..2026_x; an update points ..data at a new directory. */
    @Test
    void aKubernetesStyleSymlinkSwapIsFollowed() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "ca");
        Path vol = Files.createDirectories(tmp.resolve("secret"));
        TestPki.Issued first = pki.issue(TestPki.Spec.server("intake", "localhost").named("v1"));
        TestPki.Issued second = pki.issue(TestPki.Spec.server("intake", "localhost").named("v2"));
        for (var v : List.of(new Object[] {"..v1", first}, new Object[] {"..v2", second})) {
            Path d = Files.createDirectories(vol.resolve((String) v[0]));
            Files.copy(((TestPki.Issued) v[1]).cert(), d.resolve("tls.crt"));
            Files.copy(((TestPki.Issued) v[1]).key(), d.resolve("tls.key"));
        }
        Files.createSymbolicLink(vol.resolve("..data"), Path.of("..v1"));
        Files.createSymbolicLink(vol.resolve("tls.crt"), Path.of("..data/tls.crt"));
        Files.createSymbolicLink(vol.resolve("tls.key"), Path.of("..data/tls.key"));
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(vol.resolve("tls.crt"), vol.resolve("tls.key"), null),
                Clock.systemUTC(), listener);
        assertEquals(first.certificate(), presented(tls));

        Files.createSymbolicLink(vol.resolve("..data_tmp"), Path.of("..v2"));
        Files.move(vol.resolve("..data_tmp"), vol.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        tls.checkNow();
        assertEquals(second.certificate(), presented(tls));
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @Test
    void aPkcs1KeyGetsOneLineSayingHowToConvertIt() throws Exception {
        Path key = tmp.resolve("rsa.key");
        Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        TlsFileException e = assertThrows(TlsFileException.class, () -> PemFiles.privateKey(key, Files.readAllBytes(key)));
        assertEquals(key + ": a RSA PRIVATE KEY (PKCS#1/SEC1) key; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt"
                + " -in " + key + " -out " + key + ".pk8", e.getMessage());
    }

    @Test
    void aCaBundleWithSeveralCertificatesTrustsEach() throws Exception {
        TestPki a = TestPki.create(tmp.resolve("a"), "ca-a");
        TestPki b = TestPki.create(tmp.resolve("b"), "ca-b");
        Path bundle = tmp.resolve("bundle.pem");
        Files.writeString(bundle, Files.readString(a.caCert()) + Files.readString(b.caCert()));
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(null, null, bundle), Clock.systemUTC(), listener);
        assertEquals(2, tls.trustManager().getAcceptedIssuers().length);
        for (TestPki pki : List.of(a, b)) {
            TestPki.Issued c = pki.client("agent-7");
            tls.trustManager().checkClientTrusted(new X509Certificate[] {c.certificate()}, "UNKNOWN");
        }
    }
}
