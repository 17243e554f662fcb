package dev.holdfast.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The intake's TLS and insecure-bind refusals as the operator sees them: one line and the exit code. */
class TlsCliErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void aPlaintextListenerOnAllInterfacesIsRefusedWithTheFix() throws Exception {
        Path config = Files.writeString(tmp.resolve("intake.yaml"), "grpc: {host: 0.0.0.0, port: 0}\nhttp: {port: 0}\n");
        CliErrorsTest.Run r = CliErrorsTest.run("intake", "--config", config.toString(), "--data",
                tmp.resolve("data").toString(), "--kafka", "none");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(List.of("holdfast intake: invalid configuration: grpc.host: \"0.0.0.0\" is not a loopback address"
                + " and TLS is off; set tls.cert and tls.key (--tls-cert, --tls-key), listen on 127.0.0.1, or allow"
                + " plaintext on the network with tls.allowInsecure: true (--insecure)"), r.reportLines());
    }

    @Test
    void aPkcs1KeyIsOneLineNamingTheFileAndTheConversion() throws Exception {
        TestPki pki = TestPki.create(tmp.resolve("pki"), "ca");
        TestPki.Issued server = pki.server("intake", "localhost");
        Path key = Files.writeString(tmp.resolve("rsa.key"),
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        CliErrorsTest.Run r = CliErrorsTest.run("intake", "--data", tmp.resolve("data").toString(), "--kafka", "none",
                "--grpc-port", "0", "--otlp-http-port", "0", "--http-port", "0", "--tls-cert", server.cert().toString(), "--tls-key",
                key.toString());
        assertEquals(4, r.exitCode(), r.toString());
        assertEquals(List.of("holdfast intake: " + key + ": a RSA PRIVATE KEY (PKCS#1/SEC1) key; convert it to PKCS#8:"
                + " openssl pkcs8 -topk8 -nocrypt -in " + key + " -out " + key + ".pk8"), r.reportLines());
        assertFalse(r.everythingOnStderr().contains("\tat "), r.toString());
    }
}
