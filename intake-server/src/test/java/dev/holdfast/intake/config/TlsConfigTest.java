package dev.holdfast.intake.config;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.config.InvalidConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code tls} section, its flags, and secure-by-default listener addresses. */
class TlsConfigTest {
    private static final Function<String, String> NO_ENV = name -> null;
    @TempDir
    Path tmp;

    private IntakeConfig load(String yaml, Overrides o) throws IOException {
        return IntakeConfig.load(Files.writeString(Files.createTempFile(tmp, "holdfast", ".yaml"), yaml), o, NO_ENV);
    }

    private static Overrides tlsFlags(String cert, String key, String ca, Boolean insecure) {
        return new Overrides(null, null, null, null, null, null, cert == null ? null : Path.of(cert),
                key == null ? null : Path.of(key), ca == null ? null : Path.of(ca), insecure);
    }

    @Test
    void theTlsSectionIsReadWithItsDefaults() throws IOException {
        IntakeConfig c = load("""
                tls:
                  cert: /etc/holdfast/tls.crt
                  key: /etc/holdfast/tls.key
                  clientCa: /etc/holdfast/agents-ca.pem
                  clientAuth: optional
                  http: true
                  reloadInterval: 5s
                """, Overrides.NONE);
        assertEquals(new IntakeConfig.Tls(Path.of("/etc/holdfast/tls.crt"), Path.of("/etc/holdfast/tls.key"),
                Path.of("/etc/holdfast/agents-ca.pem"), IntakeConfig.Tls.ClientAuth.OPTIONAL, true, false,
                Duration.ofSeconds(5)), c.tls());
        // with TLS, unset hosts listen on every interface
        assertEquals("0.0.0.0", c.grpc().host());
        assertEquals("0.0.0.0", c.http().host());
        assertEquals(IntakeConfig.Tls.OFF, load("", Overrides.NONE).tls());
        assertEquals(IntakeConfig.Tls.ClientAuth.REQUIRE,
                load("tls: {cert: a.pem, key: a.key, clientCa: ca.pem}\n", Overrides.NONE).tls().clientAuth());
    }

    @Test
    void withoutTlsBothListenersStayOnLoopbackAndTheHttpPortToo() throws IOException {
        IntakeConfig plain = load("", Overrides.NONE);
        assertEquals("127.0.0.1", plain.grpc().host());
        assertEquals("127.0.0.1", plain.http().host());
        IntakeConfig grpcOnly = load("", tlsFlags("a.pem", "a.key", null, null));
        assertEquals("0.0.0.0", grpcOnly.grpc().host());
        assertEquals("127.0.0.1", grpcOnly.http().host(), "plaintext metrics stay on loopback");
        IntakeConfig insecure = load("", tlsFlags(null, null, null, true));
        assertEquals("0.0.0.0", insecure.grpc().host());
        assertEquals("0.0.0.0", insecure.http().host());
    }

    @Test
    void aPlaintextNonLoopbackListenerIsRefusedWithOneLineEachUnlessInsecureIsExplicit() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> load("grpc: {host: 0.0.0.0}\nhttp: {host: 10.0.0.5}\n", Overrides.NONE));
        assertEquals(List.of(
                "grpc.host: \"0.0.0.0\" is not a loopback address and TLS is off; set tls.cert and tls.key"
                        + " (--tls-cert, --tls-key), listen on 127.0.0.1, or allow plaintext on the network with"
                        + " tls.allowInsecure: true (--insecure)",
                "http.host: \"10.0.0.5\" is not a loopback address and the HTTP port is plaintext; set tls.cert,"
                        + " tls.key and tls.http: true, listen on 127.0.0.1, or allow plaintext on the network with"
                        + " tls.allowInsecure: true (--insecure)"), e.problems());
        assertEquals("0.0.0.0", load("grpc: {host: 0.0.0.0}\ntls: {allowInsecure: true}\n", Overrides.NONE).grpc().host());
        assertEquals("0.0.0.0", load("grpc: {host: 0.0.0.0}\n", tlsFlags(null, null, null, true)).grpc().host());
        for (String loopback : List.of("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]")) {
            assertEquals(loopback, load("grpc: {host: '" + loopback + "'}\n", Overrides.NONE).grpc().host());
        }
        // TLS on gRPC only: plaintext metrics on the network still need the explicit word
        InvalidConfigException http = assertThrows(InvalidConfigException.class,
                () -> load("http: {host: 0.0.0.0}\n", tlsFlags("a.pem", "a.key", null, null)));
        assertTrue(http.problems().get(0).startsWith("http.host: \"0.0.0.0\" is not a loopback address and the HTTP"
                + " port is plaintext; set tls.http: true,"), http.getMessage());
    }

    @Test
    void inconsistentTlsSettingsAreNamed() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load("""
                tls: {key: a.key, clientCa: ca.pem, http: true, clientAuth: always, reloadInterval: 1ms}
                """, Overrides.NONE));
        assertEquals(List.of(
                "tls.clientAuth: \"always\" is not one of require|optional",
                "tls.cert: missing; tls.key is set and needs its certificate (--tls-cert)",
                "tls.clientCa: needs tls.cert and tls.key (--tls-cert, --tls-key): mutual TLS is TLS first",
                "tls.http: true needs tls.cert and tls.key (--tls-cert, --tls-key)",
                "tls.reloadInterval: 1ms is outside 100ms..1h"), e.problems());
    }

    @Test
    void flagsOverrideTheFile() throws IOException {
        IntakeConfig c = load("tls: {cert: file.pem, key: file.key}\n", tlsFlags("flag.pem", null, "ca.pem", null));
        assertEquals(Path.of("flag.pem"), c.tls().cert());
        assertEquals(Path.of("file.key"), c.tls().key());
        assertEquals(Path.of("ca.pem"), c.tls().clientCa());
    }
}
