package dev.holdfast.intake;

import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.testkit.TestPki;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Certificate identity over real mutual TLS on loopback (certificates made at test time): an agent sends as its CN or
 * one of its SANs, a gateway as what auth.agents grants it, and a refused call writes and changes nothing.
 */
class MutualTlsAuthTest {
    @TempDir
    Path tmp;
    private TestPki pki;
    private IntakeFixture intake;

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.create(tmp.resolve("pki"), "ca");
        TestPki.Issued server = pki.server("intake", "localhost", "127.0.0.1");
        intake = new IntakeFixture(tmp.resolve("data"), new IntakeConfig.Auth(IntakeConfig.Auth.Require.CERTIFICATE,
                null, List.of(new IntakeConfig.AgentRule("gw", List.of("edge-*")))));
        intake.start(mtls(server, IntakeConfig.Tls.ClientAuth.REQUIRE));
    }

    /** The intake's own TLS configuration: its certificate, and client certificates signed by the test CA. */
    private IntakeConfig.Tls mtls(TestPki.Issued server, IntakeConfig.Tls.ClientAuth clientAuth) {
        return new IntakeConfig.Tls(server.cert(), server.key(), pki.caCert(), clientAuth, false, false,
                java.time.Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() throws Exception {
        intake.close();
    }

    private TestClient as(TestPki.Issued cert) throws SSLException {
        return intake.track(new TestClient(NettyChannelBuilder.forAddress("localhost", intake.server().grpcPort())
                .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile())
                        .keyManager(cert.cert().toFile(), cert.key().toFile()).build())
                .build()));
    }

    private static EventBatch batch(String agent, long seq) {
        return TestClient.batch(agent, seq, 2, Priority.NORMAL, 10);
    }

    private static Status.Code code(Executable call) {
        return Status.fromThrowable(assertThrows(StatusRuntimeException.class, call)).getCode();
    }

    @Test
    void anAgentSendsAsItsCommonName() throws Exception {
        TestClient c = as(pki.client("agent-7"));
        TestClient.Stream s = c.stream();
        assertEquals(0, s.hello("agent-7").getWelcome().getPersistedThrough());
        s.send(batch("agent-7", 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("agent-7", 2)).getStatus());
        assertEquals(BatchAck.Status.DUPLICATE, c.blocking().send(batch("agent-7", 2)).getStatus());
        assertEquals(2, c.blocking().resume(Hello.newBuilder().setAgentId("agent-7").build()).getPersistedThrough());
        assertEquals(Set.of("agent-7#1", "agent-7#2"), intake.walContents().keySet()); // each once
    }

    @Test
    void anotherAgentsIdIsRefusedAndNothingIsWrittenOrChanged() throws Exception {
        TestClient mallory = as(pki.client("agent-7"));
        TestClient.Stream s = mallory.stream();
        s.sendRawMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("agent-8")
                .setAcknowledgedThrough(Long.MAX_VALUE)).build().toByteArray());
        Status hello = s.error();
        assertEquals(Status.Code.PERMISSION_DENIED, hello.getCode());
        assertTrue(hello.getDescription().contains("not an agent certificate identity \"agent-7\" may send as"),
                hello.getDescription());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> mallory.blocking().send(batch("agent-8", 1))));
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> mallory.blocking().resume(
                Hello.newBuilder().setAgentId("agent-8").setAcknowledgedThrough(Long.MAX_VALUE).build())));
        assertTrue(intake.walContents().isEmpty());
        assertEquals(0, intake.server().wal().sequences().agentCount());

        TestClient victim = as(pki.client("agent-8"));
        assertEquals(0, victim.blocking().resume(Hello.newBuilder().setAgentId("agent-8").build()).getPersistedThrough());
        assertEquals(BatchAck.Status.PERSISTED, victim.blocking().send(batch("agent-8", 1)).getStatus());
        assertEquals(Set.of("agent-8#1"), intake.walContents().keySet());
    }

    @Test
    void anAgentMaySendAsAnyOfItsDnsOrUriSubjectAlternativeNames() throws Exception {
        TestClient c = as(pki.client("host-17", "dns:agent-dns.example", "uri:spiffe://example/agent/17"));
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("agent-dns.example", 1)).getStatus());
        TestClient.Stream s = c.stream();
        s.hello("spiffe://example/agent/17");
        s.send(batch("spiffe://example/agent/17", 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("host-17", 1)).getStatus());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> c.blocking().send(batch("agent.example", 1))));
        assertEquals(Set.of("agent-dns.example#1", "spiffe://example/agent/17#1", "host-17#1"),
                intake.walContents().keySet());
    }

    /**
     * require: any over TLS where a client certificate is optional: a certificate or a token identifies the caller,
     * a token wins over a certificate, and a TLS connection with neither is refused.
     */
    @Test
    void eitherCredentialOverTlsWithOptionalClientCertificates() throws Exception {
        TestPki.Issued server = pki.server("intake2", "localhost", "127.0.0.1");
        java.nio.file.Path tokens = java.nio.file.Files.writeString(tmp.resolve("tokens"),
                dev.holdfast.intake.auth.Tokens.hash("t-9") + " agent-9\n");
        try (IntakeFixture optional = new IntakeFixture(tmp.resolve("data2"), new IntakeConfig.Auth(
                IntakeConfig.Auth.Require.ANY, tokens, List.of()))) {
            optional.start(mtls(server, IntakeConfig.Tls.ClientAuth.OPTIONAL));
            int port = optional.server().grpcPort();
            io.grpc.Metadata md = new io.grpc.Metadata();
            md.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer t-9");
            TestClient bare = optional.track(new TestClient(NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile()).build()).build()));
            assertEquals(Status.Code.UNAUTHENTICATED, code(() -> bare.blocking().send(batch("agent-9", 1))));
            TestClient token = optional.track(new TestClient(NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile()).build()).build(),
                    io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md)));
            assertEquals(BatchAck.Status.PERSISTED, token.blocking().send(batch("agent-9", 1)).getStatus());
            TestPki.Issued seven = pki.client("agent-7");
            TestClient cert = optional.track(new TestClient(NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile())
                            .keyManager(seven.cert().toFile(), seven.key().toFile()).build()).build()));
            assertEquals(BatchAck.Status.PERSISTED, cert.blocking().send(batch("agent-7", 1)).getStatus());
            TestClient both = optional.track(new TestClient(NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile())
                            .keyManager(seven.cert().toFile(), seven.key().toFile()).build()).build(),
                    io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md)));
            assertEquals(Status.Code.PERMISSION_DENIED, code(() -> both.blocking().send(batch("agent-7", 2))),
                    "the token decides");
            assertEquals(Set.of("agent-9#1", "agent-7#1"), optional.walContents().keySet());
        }
    }

    @Test
    void aGatewayCertificateSendsAsTheAgentsItIsGranted() throws Exception {
        TestClient gw = as(pki.client("gw", "dns:gw.example", "uri:spiffe://example/gw"));
        TestClient.Stream s = gw.stream();
        s.hello("edge-1");
        s.send(batch("edge-1", 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(BatchAck.Status.PERSISTED, gw.blocking().send(batch("edge-42", 1)).getStatus());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> gw.blocking().send(batch("core-1", 1))));
        TestClient.Stream core = gw.stream();
        core.sendRawMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("core-1"))
                .build().toByteArray());
        assertEquals(Status.Code.PERMISSION_DENIED, core.error().getCode());
        // the rule is the gateway's: an agent's own certificate does not get it
        TestClient edge = as(pki.client("edge-9"));
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> edge.blocking().send(batch("edge-10", 1))));
        assertEquals(Set.of("edge-1#1", "edge-42#1"), intake.walContents().keySet());
    }
}
