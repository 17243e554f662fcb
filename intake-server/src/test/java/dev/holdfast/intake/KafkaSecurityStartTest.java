package dev.holdfast.intake;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The Kafka password's file is read when the intake starts: a missing one stops the start in one line. */
class KafkaSecurityStartTest {
    @TempDir
    Path tmp;

    @Test
    void aMissingPasswordFileStopsTheStartNamingFieldAndFile() throws Exception {
        Path missing = tmp.resolve("kafka.password");
        Path yaml = Files.writeString(tmp.resolve("holdfast.yaml"), "dataDir: " + tmp.resolve("data") + "\n"
                + "grpc: {host: 127.0.0.1, port: 0}\nhttp: {host: 127.0.0.1, port: 0}\n"
                + "forwarder:\n  kafka: 127.0.0.1:1\n  security:\n    protocol: SASL_PLAINTEXT\n"
                + "    sasl: {mechanism: PLAIN, username: holdfast, passwordFile: " + missing + "}\n");
        try (IntakeServer server = new IntakeServer(IntakeConfig.load(yaml), IntakeServer.newRegistry())) {
            InvalidConfigException e = assertThrows(InvalidConfigException.class, server::start);
            assertEquals("forwarder.security.sasl.passwordFile: " + missing + " does not exist", e.getMessage());
        }
    }
}
