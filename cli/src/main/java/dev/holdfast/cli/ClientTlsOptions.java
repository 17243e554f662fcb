package dev.holdfast.cli;

import dev.holdfast.shipper.config.ShipperConfig;
import dev.holdfast.client.BearerToken;
import dev.holdfast.client.Endpoints;
import dev.holdfast.client.TlsChannels;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine.Option;

/** The TLS and token flags of commands that connect to an intake ({@code shipper}, {@code bench ingest}). */
public final class ClientTlsOptions {
    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM CA bundle the intake's certificate must chain "
            + "to; turns TLS on (without it, with --tls-cert: the JDK's trust store)")
    Path ca;
    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM client certificate chain for mutual TLS; "
            + "re-read when it changes")
    Path cert;
    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --tls-cert")
    Path key;
    @Option(names = "--tls-server-name", paramLabel = "NAME", description = "Name the intake's certificate must "
            + "carry (default: each endpoint's host)")
    String serverName;
    @Option(names = "--token-file", paramLabel = "FILE", description = "File holding a bearer token sent on every "
            + "call (the intake's auth.tokens has its hash; holdfast token generate makes one); re-read when it changes")
    Path tokenFile;

    /** The token file, absolute; null = none. */
    public Path tokenFile() {
        return absolute(tokenFile);
    }

    /** As configuration; paths made absolute, because reloading reads them again later. */
    public ShipperConfig.Tls toTls() {
        return new ShipperConfig.Tls(absolute(ca), absolute(cert), absolute(key), serverName);
    }

    /** Plaintext channels, or TLS ones watching the files; with the bearer token when one is given. */
    public Endpoints.ChannelFactory channels() throws IOException {
        Endpoints.ChannelFactory channels = transport();
        if (tokenFile == null) {
            return channels;
        }
        try {
            return channels.intercepted(BearerToken.fromFile(tokenFile(), Clock.systemUTC()));
        } catch (IOException e) {
            channels.close();
            throw new OperatorError(ExitCodes.UNUSABLE_PATH, "--token-file: " + e.getMessage(), null);
        }
    }

    private Endpoints.ChannelFactory transport() throws IOException {
        ShipperConfig.Tls t = toTls();
        if (!t.enabled()) {
            if (serverName != null) {
                throw new OperatorError(ExitCodes.USAGE, "--tls-server-name: TLS is off; give --tls-ca or --tls-cert", null);
            }
            return Endpoints::plaintextChannel;
        }
        if ((t.cert() == null) != (t.key() == null)) {
            throw new OperatorError(ExitCodes.USAGE, "--tls-cert and --tls-key go together", null);
        }
        return TlsChannels.open(t.files(), t.serverName(), Clock.systemUTC());
    }

    private static Path absolute(Path p) {
        return p == null ? null : p.toAbsolutePath();
    }
}
