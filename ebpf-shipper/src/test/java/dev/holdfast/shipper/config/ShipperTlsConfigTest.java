package dev.holdfast.shipper.config;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.client.Endpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** intake.tls in the shipper's YAML and the --tls-* flags laid over it. */
class ShipperTlsConfigTest {
    @TempDir
    Path tmp;

    private Path write(String yaml) throws IOException {
        return Files.writeString(tmp.resolve("shipper.yaml"), yaml);
    }

    @Test
    void intakeTlsIsReadAndFlagsOverrideIt() throws IOException {
        Path f = write("""
                intake:
                  endpoints: ["intake.example.com:4317"]
                  tls:
                    ca: /etc/holdfast/ca.pem
                    cert: /etc/holdfast/agent.crt
                    key: /etc/holdfast/agent.key
                """);
        ShipperConfig c = ShipperConfig.load(f);
        assertEquals(new ShipperConfig.Tls(Path.of("/etc/holdfast/ca.pem"), Path.of("/etc/holdfast/agent.crt"),
                Path.of("/etc/holdfast/agent.key"), null), c.intake().tls());
        assertTrue(c.intake().tls().enabled());
        ShipperConfig o = ShipperConfig.load(f, new Overrides(List.of(), List.of(), List.of(), null, null, null, null,
                new ShipperConfig.Tls(Path.of("/other/ca.pem"), null, null, "intake.internal")));
        assertEquals(new ShipperConfig.Tls(Path.of("/other/ca.pem"), Path.of("/etc/holdfast/agent.crt"),
                Path.of("/etc/holdfast/agent.key"), "intake.internal"), o.intake().tls());
        assertEquals(ShipperConfig.Tls.OFF, ShipperConfig.defaults(
                List.of(Endpoints.Target.parse("127.0.0.1:4317"))).intake().tls(), "plaintext by default");
    }

    @Test
    void aCertificateWithoutItsKeyAndANameWithoutTlsAreRefused() throws IOException {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> ShipperConfig.load(write("""
                intake:
                  endpoints: ["intake.example.com:4317"]
                  tls: {cert: agent.crt}
                """)));
        assertEquals(List.of("intake.tls.key: missing; intake.tls.cert is set and needs its private key (--tls-key)"),
                e.problems());
        InvalidConfigException n = assertThrows(InvalidConfigException.class, () -> ShipperConfig.load(write("""
                intake:
                  endpoints: ["intake.example.com:4317"]
                  tls: {serverName: intake.internal}
                """)));
        assertEquals(List.of("intake.tls.serverName: set, but TLS is off; give intake.tls.ca (--tls-ca) or a client"
                + " certificate"), n.problems());
    }
}
