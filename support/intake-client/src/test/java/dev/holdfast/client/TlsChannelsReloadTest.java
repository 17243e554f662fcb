package dev.holdfast.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.testkit.TestPki;
import dev.holdfast.tls.TlsFiles;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agents' TLS channels (shipper, bench) against a real mutual-TLS intake: the server's name is checked, and both
 * the client's certificate and the intake's client CA bundle are reloaded from their files for new connections.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsChannelsReloadTest {
    @TempDir
    Path tmp;
    private final AtomicLong seq = new AtomicLong();

    @Test
    void clientCertificateAndServerCaBundleAreReloadedAndTheServerNameIsChecked() throws Exception {
        TestPki ca1 = TestPki.create(tmp.resolve("pki1"), "ca-1");
        TestPki ca2 = TestPki.create(tmp.resolve("pki2"), "ca-2");
        TestPki.Issued server = ca1.server("intake", "localhost", "127.0.0.1");
        Path bundle = Files.copy(ca1.caCert(), tmp.resolve("clients-ca.pem"));
        TestPki.Issued first = ca1.client("agent-7");
        Path clientCert = Files.copy(first.cert(), tmp.resolve("agent.crt"));
        Path clientKey = Files.copy(first.key(), tmp.resolve("agent.key"));
        Path trust = tmp.resolve("trust.pem");
        Files.writeString(trust, Files.readString(ca1.caCert()));
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("tls-node", tmp.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0), d.limits(),
                d.wal(), d.forwarder(), new IntakeConfig.Tls(server.cert(), server.key(), bundle,
                IntakeConfig.Tls.ClientAuth.REQUIRE, false, false, Duration.ofMillis(200))).withoutForwarder();
        try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
             TlsChannels channels = TlsChannels.open(new TlsFiles(clientCert, clientKey, trust), null,
                     Clock.systemUTC());
             TlsChannels wrongName = TlsChannels.open(new TlsFiles(clientCert, clientKey, trust), "other.example",
                     Clock.systemUTC())) {
            Endpoints.Endpoint endpoint = new Endpoints.Endpoint(new Endpoints.Target("localhost", intake.grpcPort()),
                    new InetSocketAddress("127.0.0.1", intake.grpcPort()));
            assertTrue(sends(channels, endpoint), "a client certificate of the trusted CA");
            assertFalse(sends(wrongName, endpoint), "the intake's certificate does not name other.example");

            // the agent gets a certificate from a CA the intake does not trust yet: its new connections fail...
            TestPki.Issued moved = ca2.client("agent-7");
            Files.copy(moved.key(), tmp.resolve("agent.key.new"));
            Files.copy(moved.cert(), tmp.resolve("agent.crt.new"));
            Files.move(tmp.resolve("agent.key.new"), clientKey, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp.resolve("agent.crt.new"), clientCert, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            assertTrue(eventually(() -> !sends(channels, endpoint)), "the client presents its new certificate");
            // ... until the intake's client CA bundle gains that CA
            Files.writeString(tmp.resolve("bundle.new"), Files.readString(ca1.caCert()) + Files.readString(ca2.caCert()));
            Files.move(tmp.resolve("bundle.new"), bundle, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            assertTrue(eventually(() -> sends(channels, endpoint)), "the intake trusts the new CA");
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static boolean eventually(Check c) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < until) {
            if (c.ok()) return true;
            Thread.sleep(200);
        }
        return false;
    }

    /** One batch over a new connection from {@code channels}. */
    private boolean sends(TlsChannels channels, Endpoints.Endpoint endpoint) throws InterruptedException {
        ManagedChannel channel = channels.create(endpoint);
        try {
            BatchAck ack = IntakeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .send(EventBatch.newBuilder().setAgentId("agent-7").setBatchSeq(seq.incrementAndGet())
                            .addEvents(Event.newBuilder().setTimeUnixNano(1)).build());
            return ack.getStatus() == BatchAck.Status.PERSISTED;
        } catch (StatusRuntimeException e) {
            return false;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
