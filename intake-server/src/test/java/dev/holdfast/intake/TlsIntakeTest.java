package dev.holdfast.intake;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.tls.ReloadingTls;
import dev.holdfast.tls.TlsContexts;
import dev.holdfast.tls.TlsFiles;
import dev.holdfast.tls.TlsListener;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real TLS and mutual TLS over loopback: a real intake, real gRPC clients, certificates made by {@link TestPki}. */
class TlsIntakeTest {
    @TempDir
    Path tmp;
    private IntakeFixture intake;
    private TestPki pki;
    private SecretVolume volume;

    @BeforeEach
    void setUp() throws Exception {
        intake = new IntakeFixture(tmp.resolve("data"));
        pki = TestPki.create(tmp.resolve("pki"), "ca");
        volume = new SecretVolume(Files.createDirectories(tmp.resolve("secret")));
        volume.publish(pki.issue(TestPki.Spec.server("intake", "localhost", "127.0.0.1").named("server-1")));
    }

    @AfterEach
    void tearDown() throws Exception {
        intake.close();
    }

    private IntakeConfig.Tls tls(Path clientCa, boolean http) {
        return new IntakeConfig.Tls(volume.cert(), volume.key(), clientCa, IntakeConfig.Tls.ClientAuth.REQUIRE, http,
                false, Duration.ofMillis(100));
    }

    private IntakeServer startMutual() throws Exception {
        return intake.start(tls(pki.caCert(), false));
    }

    /** A TLS channel to the intake as {@code host}; {@code client} null = no client certificate. */
    private TestClient client(String host, Path ca, TestPki.Issued client, String authority) throws Exception {
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(client == null ? null : client.cert(),
                client == null ? null : client.key(), ca), Clock.systemUTC(), TlsListener.NONE);
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(host, intake.server().grpcPort())
                .sslContext(TlsContexts.grpcClient(tls));
        if (authority != null) {
            b.overrideAuthority(authority);
        }
        return intake.client(b.build());
    }

    private static EventBatch batch(String agent, long seq) {
        return TestClient.batch(agent, seq, 3, Priority.NORMAL, 10);
    }

    private static void assertRefused(TestClient c, String why) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> c.blocking().send(batch("x", 1)), why);
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), why + ": " + e);
    }

    @Test
    void aGoodClientIsAcceptedAndItsBatchPersisted() throws Exception {
        startMutual();
        TestClient c = client("localhost", pki.caCert(), pki.client("agent-7", "dns:agent-7.example"), null);
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("agent-7", 1)).getStatus());
        assertArrayEquals(batch("agent-7", 1).toByteArray(), intake.walContents().get("agent-7#1"));
    }

    @Test
    void plaintextNoClientCertificateAnotherCaAndExpiredCertificatesAreRefused() throws Exception {
        startMutual();
        assertRefused(intake.client(), "plaintext client");
        assertRefused(client("localhost", pki.caCert(), null, null), "no client certificate");
        TestPki other = TestPki.create(tmp.resolve("other"), "other-ca");
        assertRefused(client("localhost", pki.caCert(), other.client("agent-7"), null), "client cert of another CA");
        TestPki.Issued expired = pki.issue(TestPki.Spec.client("agent-7").named("expired")
                .validFor(Instant.now().minus(Duration.ofDays(3)), Duration.ofDays(1)));
        // the client side's own loader refuses an expired certificate; present it anyway, as an attacker would
        ManagedChannel raw = NettyChannelBuilder.forAddress("localhost", intake.server().grpcPort())
                .sslContext(io.grpc.netty.GrpcSslContexts.forClient().trustManager(pki.caCert().toFile())
                        .keyManager(expired.cert().toFile(), expired.key().toFile()).build()).build();
        assertRefused(intake.client(raw), "expired client certificate");
        assertTrue(intake.walContents().isEmpty());
    }

    @Test
    void optionalClientAuthAcceptsAClientWithoutACertificate() throws Exception {
        intake.start(new IntakeConfig.Tls(volume.cert(), volume.key(), pki.caCert(),
                IntakeConfig.Tls.ClientAuth.OPTIONAL, false, false, Duration.ofMillis(100)));
        TestClient c = client("localhost", pki.caCert(), null, null);
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("token-only", 1)).getStatus());
    }

    @Test
    void theClientRefusesAServerWhoseNameDoesNotMatch() throws Exception {
        startMutual();
        TestPki.Issued agent = pki.client("agent-7");
        assertRefused(client("localhost", pki.caCert(), agent, "intake.other.example"), "server name mismatch");
        TestClient byIp = client("127.0.0.1", pki.caCert(), agent, null);
        assertEquals(BatchAck.Status.PERSISTED, byIp.blocking().send(batch("agent-7", 1)).getStatus());
    }

    @Test
    void certificateRotationUnderLoadLosesNoAckAndNewConnectionsGetTheNewCertificate() throws Exception {
        startMutual();
        TestPki.Issued agent = pki.client("agent-7");
        TestClient c = client("localhost", pki.caCert(), agent, null);
        TestClient.Stream stream = c.stream();
        stream.hello("agent-7");
        AtomicInteger rotations = new AtomicInteger();
        Thread rotator = new Thread(() -> {
            try {
                for (int i = 2; i <= 3; i++) {
                    Thread.sleep(300);
                    TestPki.Issued next = pki.issue(TestPki.Spec.server("intake", "localhost", "127.0.0.1")
                            .named("server-" + i));
                    volume.publish(next);
                    awaitPresented(next.certificate(), agent);
                    rotations.incrementAndGet();
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, "rotator");
        rotator.start();
        Map<Long, BatchAck.Status> acks = new HashMap<>();
        long seq = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((rotator.isAlive() || seq < 200) && System.nanoTime() < deadline) {
            for (int i = 0; i < 10; i++) {
                stream.send(batch("agent-7", ++seq));
            }
            for (int i = 0; i < 10; i++) {
                BatchAck a = stream.next().getAck();
                acks.put(a.getBatchSeq(), a.getStatus());
            }
        }
        rotator.join();
        assertEquals(2, rotations.get(), "both new certificates were presented to new connections");
        assertEquals(seq, acks.size());
        assertTrue(acks.values().stream().allMatch(s -> s == BatchAck.Status.PERSISTED), acks.toString());
        assertEquals(seq, intake.walContents().keySet().stream().filter(k -> k.startsWith("agent-7#")).count());
        assertTrue(intake.metrics().contains("holdfast_tls_reloads_total 2.0"), intake.metrics());
        assertTrue(intake.metrics().contains("holdfast_tls_reload_failures_total 0.0"), intake.metrics());
    }

    @Test
    void aBadNewCertificateKeepsTheOldOneWithAWarningAndACount() throws Exception {
        IntakeServer server = startMutual();
        TestPki.Issued agent = pki.client("agent-7");
        X509Certificate first = presented(agent);
        PrintStream realErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Files.writeString(volume.current().resolve("tls.crt"), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!intake.metrics().contains("holdfast_tls_reload_failures_total 1.0") && System.nanoTime() < until) {
                Thread.sleep(50);
            }
        } finally {
            System.setErr(realErr);
        }
        assertTrue(intake.metrics().contains("holdfast_tls_reload_failures_total 1.0"), intake.metrics());
        String log = err.toString(StandardCharsets.UTF_8);
        assertTrue(log.lines().anyMatch(l -> l.contains("WARN") && l.contains(volume.cert() + ": not a valid X.509")),
                log);
        assertEquals(first, presented(agent));
        TestClient c = client("localhost", pki.caCert(), agent, null);
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("agent-7", 1)).getStatus());
        double expiry = Double.parseDouble(intake.metrics().lines()
                .filter(l -> l.startsWith("holdfast_tls_certificate_expiry_seconds ")).findFirst().orElseThrow()
                .split(" ")[1]);
        assertTrue(expiry > Duration.ofDays(29).toSeconds() && expiry <= Duration.ofDays(30).toSeconds(), "" + expiry);
        assertNotNull(server.tls());
    }

    @Test
    void theHttpPortServesHealthOverTls() throws Exception {
        intake.start(tls(null, true));
        SSLContext ctx = SSLContext.getInstance("TLS");
        ReloadingTls trust = ReloadingTls.load(new TlsFiles(null, null, pki.caCert()), Clock.systemUTC(),
                TlsListener.NONE);
        ctx.init(null, new javax.net.ssl.TrustManager[] {trust.trustManager()}, null);
        HttpClient https = HttpClient.newBuilder().sslContext(ctx).build();
        HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(
                "https://localhost:" + intake.server().httpPort() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertThrows(java.io.IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + intake.server().httpPort() + "/healthz"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()),
                "plain HTTP is not answered on a TLS port");
    }

    /** The certificate a new connection is shown, by a plain JDK handshake. */
    private X509Certificate presented(TestPki.Issued client) throws Exception {
        ReloadingTls tls = ReloadingTls.load(new TlsFiles(client.cert(), client.key(), pki.caCert()),
                Clock.systemUTC(), TlsListener.NONE);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(new javax.net.ssl.KeyManager[] {tls.keyManager()},
                new javax.net.ssl.TrustManager[] {tls.trustManager()}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", intake.server().grpcPort())) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.startHandshake();
            assertEquals("TLSv1.3", s.getSession().getProtocol());
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    private void awaitPresented(X509Certificate expected, TestPki.Issued client) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!expected.equals(presented(client))) {
            if (System.nanoTime() > until) throw new AssertionError("still not presented: " + expected.getSerialNumber());
            Thread.sleep(50);
        }
    }

    /** A Kubernetes secret volume: tls.crt and tls.key link through ..data, which an update swaps atomically. */
    static final class SecretVolume {
        private final Path dir;
        private int version;

        SecretVolume(Path dir) {
            this.dir = dir;
        }

        Path cert() {
            return dir.resolve("tls.crt");
        }

        Path key() {
            return dir.resolve("tls.key");
        }

        Path current() {
            return dir.resolve("..v" + version);
        }

        void publish(TestPki.Issued issued) throws Exception {
            Path v = Files.createDirectories(dir.resolve("..v" + ++version));
            Files.copy(issued.cert(), v.resolve("tls.crt"));
            Files.copy(issued.key(), v.resolve("tls.key"));
            Path tmpLink = dir.resolve("..data_tmp");
            Files.createSymbolicLink(tmpLink, v.getFileName());
            Files.move(tmpLink, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (!Files.exists(cert(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(cert(), Path.of("..data/tls.crt"));
                Files.createSymbolicLink(key(), Path.of("..data/tls.key"));
            }
        }
    }
}
