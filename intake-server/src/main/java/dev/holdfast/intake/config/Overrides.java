package dev.holdfast.intake.config;

import java.nio.file.Path;

/**
 * Command-line overrides for an {@link IntakeConfig}; a {@code null} component means "not given, keep
 * what the file (or the default) says".
 *
 * <p>{@code durability} stays a string so that a typo on the command line is reported by the same
 * validation, with the same message, as a typo in the file.
 *
 * @param dataDir     {@code --data}
 * @param grpcPort    {@code --grpc-port}
 * @param httpPort    {@code --http-port}
 * @param durability  {@code --durability}, {@code written} or {@code fsync}
 * @param tlsCert     {@code --tls-cert}
 * @param tlsKey      {@code --tls-key}
 * @param tlsClientCa {@code --tls-client-ca}
 * @param insecure    {@code --insecure}: allow plaintext listeners on non-loopback addresses
 * @param authTokens  {@code --auth-tokens}: the token file ({@code auth.tokens})
 * @param otlpHttpPort {@code --otlp-http-port} ({@code otlp.http.port}, 0 = off)
 */
public record Overrides(Path dataDir, Integer grpcPort, Integer httpPort, String durability, String kafka,
                        String topic, Path tlsCert, Path tlsKey, Path tlsClientCa, Boolean insecure,
                        Path authTokens, Integer otlpHttpPort) {

    /** No overrides at all. */
    public static final Overrides NONE = new Overrides(null, null, null, null, null, null);

    /** Without TLS or token overrides. */
    public Overrides(Path dataDir, Integer grpcPort, Integer httpPort, String durability, String kafka, String topic) {
        this(dataDir, grpcPort, httpPort, durability, kafka, topic, null, null, null, null, null, null);
    }

    /** Without a token file. */
    public Overrides(Path dataDir, Integer grpcPort, Integer httpPort, String durability, String kafka, String topic,
                     Path tlsCert, Path tlsKey, Path tlsClientCa, Boolean insecure) {
        this(dataDir, grpcPort, httpPort, durability, kafka, topic, tlsCert, tlsKey, tlsClientCa, insecure, null, null);
    }

    /** Without an OTLP/HTTP port. */
    public Overrides(Path dataDir, Integer grpcPort, Integer httpPort, String durability, String kafka, String topic,
                     Path tlsCert, Path tlsKey, Path tlsClientCa, Boolean insecure, Path authTokens) {
        this(dataDir, grpcPort, httpPort, durability, kafka, topic, tlsCert, tlsKey, tlsClientCa, insecure, authTokens,
                null);
    }

    /** Only a token file besides the basics. */
    public Overrides(Path dataDir, Integer grpcPort, Integer httpPort, String durability, String kafka, String topic,
                     Path authTokens) {
        this(dataDir, grpcPort, httpPort, durability, kafka, topic, null, null, null, null, authTokens, null);
    }
}
