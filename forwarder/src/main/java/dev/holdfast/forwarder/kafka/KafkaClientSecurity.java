package dev.holdfast.forwarder.kafka;

import dev.holdfast.config.InvalidConfigException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@link KafkaSecurity} with its secrets read: the Kafka client properties every Holdfast client gets (producers,
 * admin clients, consumers). The JAAS configuration and the private key are Kafka {@link Password}s, which Kafka
 * prints as {@code [hidden]}; this class's {@link #toString()} says only protocol, mechanism, user and files.
 */
public final class KafkaClientSecurity {
    /** No encryption, no authentication: Kafka's defaults. */
    public static final KafkaClientSecurity NONE = new KafkaClientSecurity(KafkaSecurity.PLAINTEXT, Map.of());

    private final KafkaSecurity settings;
    private final Map<String, Object> properties;

    private KafkaClientSecurity(KafkaSecurity settings, Map<String, Object> properties) {
        this.settings = settings;
        this.properties = Collections.unmodifiableMap(properties);
    }

    static KafkaClientSecurity of(KafkaSecurity s, String at, Function<String, String> getenv) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("security.protocol", s.protocol().name());
        KafkaSecurity.Tls tls = s.tls();
        if (tls != null && tls.ca() != null) {
            readable(at + ".tls.ca", tls.ca());
            p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
            p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, tls.ca().toString());
        }
        if (tls != null && tls.cert() != null) {
            // given as content, not as a file: Kafka's PEM key store from a file wants an encrypted key and its
            // password, while operators hand over the unencrypted PKCS#8 key files used elsewhere in Holdfast
            p.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
            p.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, new Password(read(at + ".tls.cert", tls.cert())));
            p.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, new Password(read(at + ".tls.key", tls.key())));
        }
        KafkaSecurity.Sasl sasl = s.sasl();
        if (sasl != null) {
            String password = password(at, sasl, getenv);
            p.put(SaslConfigs.SASL_MECHANISM, sasl.mechanism().kafkaName);
            p.put(SaslConfigs.SASL_JAAS_CONFIG, new Password(sasl.mechanism().loginModule + " required username=\""
                    + jaasQuote(sasl.username()) + "\" password=\"" + jaasQuote(password) + "\";"));
        }
        return new KafkaClientSecurity(s, p);
    }

    private static String password(String at, KafkaSecurity.Sasl sasl, Function<String, String> getenv) {
        String password;
        String where;
        if (sasl.passwordFile() != null) {
            where = at + ".sasl.passwordFile: " + sasl.passwordFile();
            password = read(at + ".sasl.passwordFile", sasl.passwordFile());
            // a file written with echo or an editor ends with a newline that is not part of the password
            password = password.endsWith("\r\n") ? password.substring(0, password.length() - 2)
                    : password.endsWith("\n") ? password.substring(0, password.length() - 1) : password;
        } else {
            where = at + ".sasl.passwordEnv: environment variable " + sasl.passwordEnv();
            password = getenv.apply(sasl.passwordEnv());
            if (password == null) {
                throw invalid(where + " is not set");
            }
        }
        if (password.isEmpty()) {
            throw invalid(where + " is empty");
        }
        return password;
    }

    private static void readable(String field, Path file) {
        if (!Files.isRegularFile(file)) {
            throw invalid(field + ": " + file + (Files.exists(file) ? " is not a file"
                    : " does not exist"));
        }
        if (!Files.isReadable(file)) {
            throw invalid(field + ": " + file + ": permission denied");
        }
    }

    private static String read(String field, Path file) {
        readable(field, file);
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw invalid(field + ": " + file + " does not exist");
        } catch (IOException e) {
            throw invalid(field + ": " + file + ": cannot be read: " + e.getMessage());
        }
    }

    /** A configuration problem (the CLI prints it as one line, exit 2), naming the field and file, never a secret. */
    private static InvalidConfigException invalid(String oneLine) {
        return new InvalidConfigException(List.of(oneLine));
    }

    /** JAAS options are double-quoted; a backslash or quote inside is escaped. */
    private static String jaasQuote(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** The client properties: {@code security.protocol}, {@code ssl.*}, {@code sasl.*}. */
    public Map<String, Object> properties() {
        return properties;
    }

    public KafkaSecurity settings() {
        return settings;
    }

    /** Mechanism and user when SASL is used, else the protocol: for "authentication failed" lines. */
    public String who() {
        return settings.sasl() == null ? settings.protocol().name()
                : settings.protocol() + " " + settings.sasl().mechanism().kafkaName + " as user "
                + settings.sasl().username();
    }

    @Override
    public String toString() {
        return settings.describe();
    }
}
