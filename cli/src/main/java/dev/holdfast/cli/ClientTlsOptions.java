package dev.holdfast.cli;

import dev.holdfast.shipper.config.ShipperConfig;
import dev.holdfast.shipper.intake.Endpoints;
import dev.holdfast.shipper.intake.TlsChannels;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine.Option;

/** The TLS flags of commands that connect to an intake ({@code shipper}, {@code bench ingest}). */
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

    /** As configuration; paths made absolute, because reloading reads them again later. */
    public ShipperConfig.Tls toTls() {
        return new ShipperConfig.Tls(absolute(ca), absolute(cert), absolute(key), serverName);
    }

    /** Plaintext channels, or TLS ones watching the files. */
    public Endpoints.ChannelFactory channels() throws IOException {
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
