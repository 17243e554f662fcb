package dev.holdfast.intake;

import dev.holdfast.testkit.FreePorts;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The intake's embedded broker is a real Kafka broker in a child process that the intake keeps running: it survives
 * a broker crash, waits out a port still held by an old broker, and stops with the intake.
 */
class EmbeddedBrokerTest {
    @TempDir
    Path tmp;

    @Test
    void runsInAProcessOfItsOwnAndIsStartedAgainWhenItDies() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(tmp.resolve("kafka"), "127.0.0.1", FreePorts.next(), List.of())) {
            String bootstrap = broker.start();
            long first = broker.pid();
            assertNotEquals(ProcessHandle.current().pid(), first);
            assertEquals(1, nodes(bootstrap), "a broker answers at " + bootstrap);

            ProcessHandle.of(first).orElseThrow().destroyForcibly(); // what the OOM killer does
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while ((broker.pid() == first || countReady() < 2) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertNotEquals(first, broker.pid(), "a new broker process was started");
            assertEquals(2, countReady(), "the broker's log shows two starts");
            assertEquals(bootstrap, broker.bootstrap(), "it comes back on the same address");
            assertEquals(1, nodes(bootstrap), "and answers there");
        }
    }

    @Test
    void startWaitsOutAPortThatIsStillTaken() throws Exception {
        int port = FreePorts.next();
        ServerSocket squatter = new ServerSocket();
        squatter.setReuseAddress(true);
        squatter.bind(new InetSocketAddress("127.0.0.1", port));
        try (EmbeddedBroker broker = new EmbeddedBroker(tmp.resolve("kafka"), "127.0.0.1", port, List.of())) {
            CompletableFuture<String> started = CompletableFuture.supplyAsync(() -> {
                try {
                    return broker.start();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(tmp.resolve("kafka.log"))
                    || !Files.readString(tmp.resolve("kafka.log")).contains("Address already in use")) {
                assertTrue(System.nanoTime() < deadline, "the broker never tried the taken port");
                Thread.sleep(100);
            }
            assertFalse(started.isDone(), "start() does not give up while the port is taken");
            squatter.close(); // the old broker has gone
            assertEquals("127.0.0.1:" + port, started.get(90, TimeUnit.SECONDS));
            assertEquals(1, nodes(broker.bootstrap()));
        } finally {
            squatter.close();
        }
    }

    @Test
    void closeStopsTheBroker() throws Exception {
        EmbeddedBroker broker = new EmbeddedBroker(tmp.resolve("kafka"), "127.0.0.1", FreePorts.next(), List.of());
        broker.start();
        ProcessHandle child = ProcessHandle.of(broker.pid()).orElseThrow();
        broker.close();
        assertFalse(child.isAlive(), "the broker process is gone once close() returns");
        assertTrue(Files.readString(tmp.resolve("kafka.log")).contains("kafka stopped"), "it shut down cleanly");
    }

    @Test
    void theReasonIsTheBrokersOwnMessage() {
        String failure = """
                kafka broker on /data/kafka exited with 1; its log (/data/kafka.log):
                [main] INFO kafka.server.KafkaRaftServer - starting
                org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:9092: Address already in use.
                \tat org.apache.kafka.network.SocketServer.openServerSocket(SocketServer.java:1)
                Caused by: java.net.BindException: Address already in use
                """;
        assertEquals("Socket server failed to bind to 127.0.0.1:9092: Address already in use.",
                EmbeddedBroker.reason(failure));
        assertEquals("kafka broker on /d not ready within PT1M; its log (/d.log):",
                EmbeddedBroker.reason("kafka broker on /d not ready within PT1M; its log (/d.log):\nstarting"));
    }

    @Test
    void moreFlagsForTheBrokerComeFromTheEnvironment() {
        assertEquals(List.of(), EmbeddedBroker.jvmArgs(null));
        assertEquals(List.of(), EmbeddedBroker.jvmArgs("  "));
        assertEquals(List.of("-Xmx1g", "-XX:+UseSerialGC"), EmbeddedBroker.jvmArgs(" -Xmx1g \t-XX:+UseSerialGC "));
    }

    private long countReady() throws Exception {
        return Files.readAllLines(tmp.resolve("kafka.log")).stream().filter(l -> l.startsWith("kafka ready")).count();
    }

    private static int nodes(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            return admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
        }
    }
}
