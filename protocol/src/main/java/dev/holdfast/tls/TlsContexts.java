package dev.holdfast.tls;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/**
 * Netty SSL contexts over {@link ReloadingTls}'s managers: TLS 1.3 and 1.2 only (1.3 is chosen whenever both sides
 * have it), ALPN h2 for gRPC. The JDK provider, always: the reloading managers are consulted on every handshake by the
 * JDK engine, and its behaviour does not depend on whether a native library happens to be on the class path.
 */
public final class TlsContexts {
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsContexts() {}

    /** For a gRPC server (h2 by ALPN); {@code clientAuth} only matters with a CA bundle. */
    public static SslContext grpcServer(ReloadingTls tls, ClientAuth clientAuth) throws SSLException {
        return GrpcSslContexts.configure(server(tls, clientAuth), SslProvider.JDK).build();
    }

    /** For an HTTP/1.1 server (metrics and health). */
    public static SslContext httpServer(ReloadingTls tls, ClientAuth clientAuth) throws SSLException {
        return server(tls, clientAuth).sslProvider(SslProvider.JDK).build();
    }

    /**
     * For a gRPC client. The server's name is verified against the target's host (or the channel's authority
     * override) by gRPC, which turns on the JDK's HTTPS endpoint identification on every engine it makes.
     */
    public static SslContext grpcClient(ReloadingTls tls) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient().protocols(PROTOCOLS);
        if (tls.keyManager() != null) {
            b.keyManager(tls.keyManager());
        }
        if (tls.trustManager() != null) {
            b.trustManager(tls.trustManager());
        }
        return GrpcSslContexts.configure(b, SslProvider.JDK).build();
    }

    private static SslContextBuilder server(ReloadingTls tls, ClientAuth clientAuth) {
        if (tls.keyManager() == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate and key");
        }
        SslContextBuilder b = SslContextBuilder.forServer(tls.keyManager()).protocols(PROTOCOLS);
        if (tls.trustManager() != null) {
            b.trustManager(tls.trustManager()).clientAuth(clientAuth);
        }
        return b;
    }
}
