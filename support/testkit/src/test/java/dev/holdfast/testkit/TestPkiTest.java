package dev.holdfast.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateExpiredException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestPkiTest {
    @TempDir
    Path dir;

    @Test
    void issuesCertificatesSignedByItsCaWithTheNamesAsked() throws Exception {
        TestPki ca = TestPki.create(dir, "ca-one");
        TestPki.Issued server = ca.server("intake", "localhost", "127.0.0.1");
        server.certificate().verify(ca.caCertificate().getPublicKey());
        server.certificate().checkValidity();
        assertTrue(server.certificate().getSubjectX500Principal().getName().contains("CN=intake"));
        assertEquals(List.of(List.of(2, "localhost"), List.of(7, "127.0.0.1")),
                server.certificate().getSubjectAlternativeNames().stream().toList());
        assertTrue(server.certificate().getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "serverAuth");
        assertTrue(Files.readString(server.key()).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.readString(ca.caCert()).startsWith("-----BEGIN CERTIFICATE-----"));

        TestPki.Issued expired = ca.issue(TestPki.Spec.client("agent-1").named("agent-1-expired")
                .validFor(Instant.now().minus(Duration.ofDays(3)), Duration.ofDays(1)));
        assertThrows(CertificateExpiredException.class, () -> expired.certificate().checkValidity());
        assertTrue(expired.certificate().getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "clientAuth");

        TestPki other = TestPki.create(dir, "ca-two");
        assertThrows(java.security.SignatureException.class,
                () -> other.client("x").certificate().verify(ca.caCertificate().getPublicKey()));
    }
}
