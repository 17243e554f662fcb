package dev.holdfast.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * Test fixture: the listeners a broker needs for the Kafka security tests, next to its unchanged plaintext one
 * (which stays the inter-broker listener and the one set-up and verification clients use):
 * <ul>
 *   <li>{@code SSL} on {@link #sslPort}: TLS with the server certificate, client certificates required (mTLS);</li>
 *   <li>{@code SASL_SSL} on {@link #saslSslPort}: TLS (no client certificate) and SASL SCRAM-SHA-512 or PLAIN;</li>
 *   <li>{@code SASL_PLAINTEXT} on {@link #saslPlaintextPort}: the same SASL without TLS.</li>
 * </ul>
 * PLAIN users are in the listeners' JAAS configuration ({@code plainUsers}); SCRAM users are created after start
 * with {@link #createScramUser}, as with KRaft in production. Lives in src/main, like {@link KafkaBrokerProcess}, so
 * other modules' tests can use it.
 *
 * @param ca         the CA (PEM) that issued the server certificate and the client certificates it accepts
 * @param serverCert the broker's certificate (PEM), valid for the host clients connect to
 * @param serverKey  its unencrypted PKCS#8 key (PEM)
 * @param plainUsers user name to password, for SASL/PLAIN
 */
public record SecureListeners(String host, Path ca, Path serverCert, Path serverKey, Map<String, String> plainUsers,
                              int sslPort, int saslSslPort, int saslPlaintextPort) {
    public SecureListeners {
        plainUsers = Map.copyOf(plainUsers);
    }

    /** Without the PLAIN users' passwords. */
    @Override
    public String toString() {
        return "SecureListeners[SSL " + sslBootstrap() + ", SASL_SSL " + saslSslBootstrap() + ", SASL_PLAINTEXT "
                + saslPlaintextBootstrap() + ", PLAIN users " + plainUsers.keySet() + "]";
    }

    /** The listeners on free ports of {@code host}. */
    public static SecureListeners onFreePorts(String host, Path ca, Path serverCert, Path serverKey,
                                              Map<String, String> plainUsers) throws IOException {
        List<Integer> ports = FreePorts.distinct(host, 3, List.of());
        return new SecureListeners(host, ca, serverCert, serverKey, plainUsers, ports.get(0), ports.get(1),
                ports.get(2));
    }

    public List<EmbeddedKafka.Listener> listeners() {
        return List.of(new EmbeddedKafka.Listener("SSL", sslPort), new EmbeddedKafka.Listener("SASL_SSL", saslSslPort),
                new EmbeddedKafka.Listener("SASL_PLAINTEXT", saslPlaintextPort));
    }

    /** The broker properties for the three listeners (the server key is given as PEM content, not a file). */
    public Map<String, String> brokerProperties() throws IOException {
        String chain = Files.readString(serverCert, StandardCharsets.UTF_8);
        String key = Files.readString(serverKey, StandardCharsets.UTF_8);
        Map<String, String> p = new LinkedHashMap<>();
        for (String tls : List.of("ssl", "sasl_ssl")) {
            String at = "listener.name." + tls + ".";
            p.put(at + "ssl.keystore.type", "PEM");
            p.put(at + "ssl.keystore.certificate.chain", chain);
            p.put(at + "ssl.keystore.key", key);
            p.put(at + "ssl.truststore.type", "PEM");
            p.put(at + "ssl.truststore.location", ca.toAbsolutePath().toString());
        }
        p.put("listener.name.ssl.ssl.client.auth", "required");
        StringBuilder plain = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
        plainUsers.forEach((user, password) -> plain.append(" user_").append(user).append("=\"").append(password)
                .append('"'));
        plain.append(';');
        for (String sasl : List.of("sasl_ssl", "sasl_plaintext")) {
            String at = "listener.name." + sasl + ".";
            p.put(at + "sasl.enabled.mechanisms", "SCRAM-SHA-512,PLAIN");
            p.put(at + "scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put(at + "plain.sasl.jaas.config", plain.toString());
        }
        return p;
    }

    public String sslBootstrap() {
        return host + ":" + sslPort;
    }

    public String saslSslBootstrap() {
        return host + ":" + saslSslPort;
    }

    public String saslPlaintextBootstrap() {
        return host + ":" + saslPlaintextPort;
    }

    /** Creates (or replaces) a SCRAM-SHA-512 user through the broker's plaintext listener. */
    public static void createScramUser(String plaintextBootstrap, String user, String password)
            throws IOException, InterruptedException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, plaintextBootstrap))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password))).all().get();
        } catch (ExecutionException e) {
            throw new IOException("could not create SCRAM user " + user + " at " + plaintextBootstrap + ": "
                    + e.getCause(), e.getCause());
        }
    }
}
