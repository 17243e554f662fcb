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
    /**
     * How long a server lets a TLS session be resumed. A resumed handshake skips the certificate checks, so this
     * bounds how long a session negotiated before a CA bundle change can still be resumed under the old trust.
     */
    static final long SERVER_SESSION_SECONDS = 60;

    private TlsContexts() {}

    /** For a gRPC server (h2 by ALPN); {@code clientAuth} only matters with a CA bundle. */
    public static SslContext grpcServer(ReloadingTls tls, ClientAuth clientAuth) throws SSLException {
        return forgettingSessions(tls, GrpcSslContexts.configure(server(tls, clientAuth), SslProvider.JDK).build());
    }

    /** For an HTTP/1.1 server (metrics and health). */
    public static SslContext httpServer(ReloadingTls tls, ClientAuth clientAuth) throws SSLException {
        return forgettingSessions(tls, server(tls, clientAuth).sslProvider(SslProvider.JDK).build());
    }

    /**
     * For a gRPC client. The server's name is verified against the target's host (or the channel's authority
     * override) by gRPC, which turns on the JDK's HTTPS endpoint identification on every engine it makes. Its session
     * cache resumes sessions made with the old certificate: build a new context after a reload (see TlsChannels).
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

    /**
     * Cached sessions are forgotten whenever the material changes: a new connection that resumed a cached session
     * would skip the handshake's certificates, so a client would go on being known by its old certificate, and a
     * server would accept a client its new CA bundle no longer trusts.
     */
    private static SslContext forgettingSessions(ReloadingTls tls, SslContext context) {
        tls.onReload(() -> {
            javax.net.ssl.SSLSessionContext sessions = context.sessionContext();
            for (java.util.Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
                javax.net.ssl.SSLSession s = sessions.getSession(ids.nextElement());
                if (s != null) {
                    s.invalidate();
                }
            }
        });
        return context;
    }

    private static SslContextBuilder server(ReloadingTls tls, ClientAuth clientAuth) {
        if (tls.keyManager() == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate and key");
        }
        SslContextBuilder b = SslContextBuilder.forServer(tls.keyManager()).protocols(PROTOCOLS)
                .sessionTimeout(SERVER_SESSION_SECONDS);
        if (tls.trustManager() != null) {
            b.trustManager(tls.trustManager()).clientAuth(clientAuth);
        }
        return b;
    }
}
