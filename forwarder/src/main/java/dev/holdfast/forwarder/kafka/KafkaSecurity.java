package dev.holdfast.forwarder.kafka;

import dev.holdfast.config.InvalidConfigException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * How Holdfast's Kafka clients encrypt and authenticate, as configured: a protocol, PEM files and names, never a
 * secret. The password is read from its file or environment variable only by {@link #resolve(String, Function)}, once, at
 * start; what that returns ({@link KafkaClientSecurity}) is the one mapping into Kafka client properties, used by
 * every producer, admin client and consumer Holdfast builds.
 *
 * @param protocol Kafka's {@code security.protocol}
 * @param tls      for SSL and SASL_SSL; null = trust the JVM's CAs, no client certificate
 * @param sasl     for SASL_PLAINTEXT and SASL_SSL, required there
 */
public record KafkaSecurity(Protocol protocol, Tls tls, Sasl sasl) {
    public static final KafkaSecurity PLAINTEXT = new KafkaSecurity(Protocol.PLAINTEXT, null, null);

    public enum Protocol {
        PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL;

        public boolean tls() {
            return this == SSL || this == SASL_SSL;
        }

        public boolean sasl() {
            return this == SASL_PLAINTEXT || this == SASL_SSL;
        }

        public static Optional<Protocol> find(String name) {
            for (Protocol p : values()) {
                if (p.name().equals(name)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }

        public static String allowed() {
            return "PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL";
        }
    }

    /** The SASL mechanisms Holdfast supports; GSSAPI and OAUTHBEARER would need more than a user and a password. */
    public enum Mechanism {
        SCRAM_SHA_512("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule"),
        PLAIN("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule");

        public final String kafkaName;
        final String loginModule;

        Mechanism(String kafkaName, String loginModule) {
            this.kafkaName = kafkaName;
            this.loginModule = loginModule;
        }

        public static Optional<Mechanism> find(String name) {
            for (Mechanism m : values()) {
                if (m.kafkaName.equals(name)) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        }

        public static String allowed() {
            return "SCRAM-SHA-512|PLAIN";
        }
    }

    /**
     * PEM files, the same kind the rest of Holdfast takes.
     *
     * @param ca   CA certificates the broker's certificate must chain to; null = the JVM's default trust store
     * @param cert client certificate (chain) for brokers that require one (mTLS); with {@code key}, or neither
     * @param key  the client certificate's unencrypted PKCS#8 private key
     */
    public record Tls(Path ca, Path cert, Path key) {
    }

    /**
     * A user and where its password is: exactly one of {@code passwordFile} (its content, a trailing newline
     * dropped) and {@code passwordEnv} (an environment variable's name). There is deliberately no inline password:
     * it would sit in the config file, in backups and in diffs.
     */
    public record Sasl(Mechanism mechanism, String username, Path passwordFile, String passwordEnv) {
    }

    public KafkaSecurity {
        Objects.requireNonNull(protocol, "protocol");
    }

    /**
     * What is inconsistent, each message naming the field under {@code at} (e.g. {@code forwarder.security}). Files
     * are not looked at here: {@link #resolve} reads them, at start.
     */
    public List<String> problems(String at) {
        List<String> p = new ArrayList<>();
        if (tls != null && !protocol.tls()) {
            p.add(at + ".tls: set, but protocol " + protocol + " does not use TLS; use SSL or SASL_SSL");
        }
        if (tls != null && (tls.cert() == null) != (tls.key() == null)) {
            p.add(at + ".tls: cert and key go together (a client certificate needs its key); got only "
                    + (tls.cert() == null ? "key" : "cert"));
        }
        if (protocol.sasl() && sasl == null) {
            p.add(at + ".sasl: protocol " + protocol + " needs a sasl section (mechanism, username, passwordFile or"
                    + " passwordEnv)");
        }
        if (sasl != null && !protocol.sasl()) {
            p.add(at + ".sasl: set, but protocol " + protocol + " does not use SASL; use SASL_SSL or SASL_PLAINTEXT");
        }
        if (sasl != null) {
            if (sasl.mechanism() == null) {
                p.add(at + ".sasl.mechanism: must be set (" + Mechanism.allowed() + ")");
            }
            if (sasl.username() == null || sasl.username().isBlank()) {
                p.add(at + ".sasl.username: must be set");
            }
            if ((sasl.passwordFile() == null) == (sasl.passwordEnv() == null || sasl.passwordEnv().isEmpty())) {
                p.add(at + ".sasl: give exactly one of passwordFile and passwordEnv");
            }
        }
        return p;
    }

    /**
     * Reads the password and the client certificate now, into client properties. {@code at} names the settings in
     * errors (e.g. {@code forwarder.security}).
     *
     * @throws InvalidConfigException each problem in one line naming the field and the file or variable, never
     *                                the secret
     */
    public KafkaClientSecurity resolve(String at, Function<String, String> getenv) {
        List<String> problems = problems(at);
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
        return KafkaClientSecurity.of(this, at, getenv);
    }

    /** Protocol, mechanism, user and files: what may be logged. */
    public String describe() {
        StringBuilder b = new StringBuilder(protocol.name());
        if (sasl != null) {
            b.append(", ").append(sasl.mechanism().kafkaName).append(" as user ").append(sasl.username());
        }
        if (tls != null) {
            b.append(", CA ").append(tls.ca() == null ? "the JVM's" : tls.ca());
            if (tls.cert() != null) {
                b.append(", client certificate ").append(tls.cert());
            }
        }
        return b.toString();
    }
}
