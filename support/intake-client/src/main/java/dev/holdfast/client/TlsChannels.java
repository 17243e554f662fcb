package dev.holdfast.client;

import dev.holdfast.tls.ReloadingTls;
import dev.holdfast.tls.TlsContexts;
import dev.holdfast.tls.TlsFiles;
import dev.holdfast.tls.TlsListener;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import javax.net.ssl.SSLException;

/**
 * TLS channels to intakes: the server's certificate is verified against the configured target's name (the name the
 * operator wrote, not the address DNS gave for it), or against {@code serverName} when one is set; the client
 * certificate, key and CA bundle are re-read when their files change, for new connections.
 */
public final class TlsChannels implements Endpoints.ChannelFactory {
    /** How often the files are checked for new content. */
    public static final Duration RELOAD_INTERVAL = Duration.ofSeconds(2);

    private final ReloadingTls tls;
    private final String serverName;
    private volatile SslContext context;

    TlsChannels(ReloadingTls tls, String serverName) throws SSLException {
        this.tls = tls;
        this.context = TlsContexts.grpcClient(tls);
        this.serverName = serverName;
        // A new context, with an empty session cache, after each reload: a connection resuming a cached TLS session
        // skips the certificates, so the intake would go on seeing the old client certificate.
        tls.onReload(() -> {
            try {
                context = TlsContexts.grpcClient(tls);
            } catch (SSLException e) {
                throw new IllegalStateException("cannot rebuild the TLS context after a reload: " + e.getMessage(), e);
            }
        });
    }

    /**
     * Loads the files and starts watching them.
     *
     * @param serverName the name the intake's certificate must carry; null = each target's host
     * @throws dev.holdfast.tls.TlsFileException naming a file that cannot be used
     */
    public static TlsChannels open(TlsFiles files, String serverName, Clock clock) throws SSLException {
        ReloadingTls tls = ReloadingTls.load(files, clock, TlsListener.NONE);
        try {
            TlsChannels c = new TlsChannels(tls, serverName);
            tls.watchOnOwnThread(RELOAD_INTERVAL);
            return c;
        } catch (SSLException | RuntimeException e) {
            tls.close();
            throw e;
        }
    }

    @Override
    public ManagedChannel create(InetSocketAddress address) {
        return build(address, serverName != null ? serverName : address.getHostString());
    }

    @Override
    public ManagedChannel create(Endpoints.Endpoint endpoint) {
        return build(endpoint.address(), serverName != null ? serverName : endpoint.target().host());
    }

    /** The direct executor as for plaintext channels: session listeners only enqueue. */
    private ManagedChannel build(InetSocketAddress address, String name) {
        String host = name.indexOf(':') >= 0 ? "[" + name + "]" : name;
        return NettyChannelBuilder.forAddress(address).sslContext(context).overrideAuthority(host + ":"
                + address.getPort()).directExecutor().build();
    }

    @Override
    public void close() {
        tls.close();
    }
}
