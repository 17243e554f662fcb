package dev.holdfast.tls;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.testkit.TestPki;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contexts over a real gRPC server and client: TLS 1.3 by ALPN h2, and a mutual-TLS call carries the client's
 * certificate in {@link Grpc#TRANSPORT_ATTR_SSL_SESSION}, where agent identity is read from.
 */
class TlsContextsTest {
    @TempDir
    Path tmp;

    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Echo/Echo")
            .setRequestMarshaller(new ByteArrayMarshaller()).setResponseMarshaller(new ByteArrayMarshaller()).build();

    @Test
    void aMutualTlsCallCarriesThePeerCertificateOverTls13() throws Exception {
        TestPki pki = TestPki.create(tmp, "ca");
        TestPki.Issued server = pki.server("intake", "localhost");
        TestPki.Issued agent = pki.client("agent-7", "uri:spiffe://holdfast/agent-7");
        ReloadingTls serverTls = ReloadingTls.load(new TlsFiles(server.cert(), server.key(), pki.caCert()),
                Clock.systemUTC(), TlsListener.NONE);
        ReloadingTls clientTls = ReloadingTls.load(new TlsFiles(agent.cert(), agent.key(), pki.caCert()),
                Clock.systemUTC(), TlsListener.NONE);
        AtomicReference<SSLSession> seen = new AtomicReference<>();
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(req);
                    out.onCompleted();
                })).build();
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(TlsContexts.grpcServer(serverTls, ClientAuth.REQUIRE))
                .addService(ServerInterceptors.intercept(echo, new io.grpc.ServerInterceptor() {
                    @Override
                    public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
                            io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
                        seen.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                        return next.startCall(call, headers);
                    }
                })).build().start();
        ManagedChannel c = NettyChannelBuilder.forAddress("localhost", s.getPort())
                .sslContext(TlsContexts.grpcClient(clientTls)).build();
        try {
            byte[] reply = ClientCalls.blockingUnaryCall(c, ECHO, io.grpc.CallOptions.DEFAULT
                    .withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1, 2, 3});
            assertArrayEquals(new byte[] {1, 2, 3}, reply);
            SSLSession session = seen.get();
            assertNotNull(session);
            assertEquals("TLSv1.3", session.getProtocol());
            Certificate[] peer = session.getPeerCertificates();
            assertEquals(agent.certificate(), peer[0]);
        } finally {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
