package dev.holdfast.intake.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import dev.holdfast.forwarder.kafka.KafkaSecurity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** forwarder.security: read, validated with the field named, secrets read only at resolve and never echoed. */
class KafkaSecurityConfigTest {
    @TempDir
    Path tmp;

    @Test
    void aSaslSslSectionIsReadIntoTypedSettingsAndResolvedWithThePasswordHidden() throws Exception {
        Path pw = Files.writeString(tmp.resolve("kafka.pw"), "s3cret-pw\n");
        Path ca = Files.writeString(tmp.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        IntakeConfig c = load("forwarder:\n  kafka: k1:9093\n  security:\n    protocol: SASL_SSL\n"
                + "    tls: {ca: " + ca + "}\n"
                + "    sasl: {mechanism: SCRAM-SHA-512, username: holdfast, passwordFile: " + pw + "}\n");
        KafkaSecurity s = c.forwarder().security();
        assertEquals(KafkaSecurity.Protocol.SASL_SSL, s.protocol());
        assertEquals(new KafkaSecurity.Tls(ca, null, null), s.tls());
        assertEquals(new KafkaSecurity.Sasl(KafkaSecurity.Mechanism.SCRAM_SHA_512, "holdfast", pw, null), s.sasl());
        assertFalse(c.toString().contains("s3cret"));

        KafkaClientSecurity r = s.resolve("forwarder.security", name -> null);
        assertEquals("SASL_SSL", r.properties().get("security.protocol"));
        assertEquals("PEM", r.properties().get("ssl.truststore.type"));
        assertEquals("SCRAM-SHA-512", r.properties().get("sasl.mechanism"));
        Password jaas = (Password) r.properties().get("sasl.jaas.config");
        assertTrue(jaas.value().contains("username=\"holdfast\" password=\"s3cret-pw\";"), "newline dropped");
        assertFalse(r.properties().toString().contains("s3cret"), r.properties().toString());
        assertFalse(r.toString().contains("s3cret"), r.toString());
    }

    @Test
    void anInlinePasswordIsRefusedWithoutRepeatingIt() throws Exception {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load("forwarder:\n  kafka: k:9092\n"
                + "  security:\n    protocol: SASL_PLAINTEXT\n"
                + "    sasl: {mechanism: PLAIN, username: u, password: hunter2, passwordEnv: KAFKA_PW}\n"));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).startsWith("forwarder.security.sasl.password: a password is not taken inline"),
                e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"));
        InvalidConfigException number = assertThrows(InvalidConfigException.class, () -> load("forwarder:\n"
                + "  kafka: k:9092\n  security:\n    protocol: SASL_SSL\n"
                + "    sasl: {mechanism: PLAIN, username: u, password: 8675309, passwordEnv: KAFKA_PW}\n"));
        assertTrue(number.problems().get(0).startsWith("forwarder.security.sasl.password: a password is not taken"),
                number.getMessage());
        assertFalse(number.getMessage().contains("8675309"));
        InvalidConfigException jaas = assertThrows(InvalidConfigException.class, () -> load("forwarder:\n"
                + "  kafka: k:9092\n  producer: {sasl.jaas.config: 'x required password=\"hunter2\";'}\n"));
        assertTrue(jaas.problems().get(0).startsWith("forwarder.producer.sasl.jaas.config: holds a secret"),
                jaas.getMessage());
        assertFalse(jaas.getMessage().contains("hunter2"));
    }

    @Test
    void inconsistentSettingsAreNamed() throws Exception {
        assertEquals(List.of("forwarder.security.sasl.mechanism: \"GSSAPI\" is not one of SCRAM-SHA-512|PLAIN",
                        "forwarder.security.sasl.mechanism: must be set (SCRAM-SHA-512|PLAIN)"),
                problems("protocol: SASL_SSL\n    sasl: {mechanism: GSSAPI, username: u, passwordEnv: P}"));
        assertEquals(List.of("forwarder.security.protocol: \"TLS\" is not one of PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL"),
                problems("protocol: TLS"));
        assertEquals(List.of("forwarder.security.sasl: protocol SASL_SSL needs a sasl section (mechanism, username,"
                + " passwordFile or passwordEnv)"), problems("protocol: SASL_SSL"));
        assertEquals(List.of("forwarder.security.sasl: give exactly one of passwordFile and passwordEnv"),
                problems("protocol: SASL_SSL\n    sasl: {mechanism: PLAIN, username: u, passwordEnv: P, passwordFile: /p}"));
        assertEquals(List.of("forwarder.security.tls: cert and key go together (a client certificate needs its key);"
                + " got only cert"), problems("protocol: SSL\n    tls: {ca: /ca.pem, cert: /c.pem}"));
        assertEquals(List.of("forwarder.security.tls: set, but protocol SASL_PLAINTEXT does not use TLS; use SSL or"
                        + " SASL_SSL"),
                problems("protocol: SASL_PLAINTEXT\n    tls: {ca: /ca.pem}\n    sasl: {mechanism: PLAIN, username: u,"
                        + " passwordEnv: P}"));
        assertEquals(List.of("forwarder.security.protocol: SSL with forwarder.kafka embedded, whose broker listens in"
                + " plaintext on 127.0.0.1; set forwarder.kafka to the brokers' host:port list"),
                problemsOf("forwarder:\n  security: {protocol: SSL}\n"));
        assertEquals(List.of("forwarder.producer.ssl.keystore.key: holds a secret in the config file; use"
                        + " forwarder.security (sasl.passwordFile or sasl.passwordEnv, tls.cert and tls.key)"),
                problemsOf("forwarder:\n  kafka: k:9092\n  producer: {ssl.keystore.key: x}\n"));
        assertEquals(List.of("forwarder.producer.ssl.truststore.location: set by forwarder.security; remove it here"),
                problemsOf("forwarder:\n  kafka: k:9092\n  producer: {ssl.truststore.location: /x}\n"
                        + "  security: {protocol: SSL}\n"));
    }

    @Test
    void missingFilesAndVariablesAreFoundAtResolveNamingFieldAndFile() {
        Path missing = tmp.resolve("nope.pem");
        InvalidConfigException ca = assertThrows(InvalidConfigException.class, () ->
                new KafkaSecurity(KafkaSecurity.Protocol.SSL, new KafkaSecurity.Tls(missing, null, null), null)
                        .resolve("forwarder.security", n -> null));
        assertEquals("forwarder.security.tls.ca: " + missing + " does not exist", ca.getMessage());
        InvalidConfigException env = assertThrows(InvalidConfigException.class, () ->
                new KafkaSecurity(KafkaSecurity.Protocol.SASL_SSL, null,
                        new KafkaSecurity.Sasl(KafkaSecurity.Mechanism.PLAIN, "u", null, "KAFKA_PW"))
                        .resolve("forwarder.security", n -> null));
        assertEquals("forwarder.security.sasl.passwordEnv: environment variable KAFKA_PW is not set", env.getMessage());
    }

    private List<String> problems(String securityBody) throws IOException {
        return problemsOf("forwarder:\n  kafka: k:9092\n  security:\n    " + securityBody + "\n");
    }

    private List<String> problemsOf(String yaml) throws IOException {
        return assertThrows(InvalidConfigException.class, () -> load(yaml)).problems();
    }

    private IntakeConfig load(String yaml) throws IOException {
        return IntakeConfig.load(Files.writeString(Files.createTempFile(tmp, "holdfast", ".yaml"), yaml),
                Overrides.NONE, name -> null);
    }
}
