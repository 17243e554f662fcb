package dev.holdfast.intake;

import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.testkit.StallingMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections a client can make the intake hold, over real sockets on loopback: per remote address and in total
 * (the whole 127.0.0.0/8 is loopback, so sockets bound to 127.0.0.2.. are other hosts to the intake), idle ones,
 * and HTTP requests trickled a byte at a time. In each case a well-behaved client is still served.
 */
class ConnectionLimitsTest {
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    /** One client, one kept-alive connection: the HTTP port counts connections per address too. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private IntakeServer start(IntakeConfig.Connections connections) throws Exception {
        return start(IntakeConfig.defaults().limits().maxBatchBytes(), connections);
    }

    private IntakeServer start(long maxBatchBytes, IntakeConfig.Connections connections) throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig.Limits l = d.limits();
        IntakeConfig cfg = new IntakeConfig("limits", tmp.resolve("data"), Durability.WRITTEN,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                new IntakeConfig.Limits(maxBatchBytes, l.maxEventsPerBatch(), l.maxAgentIdBytes(),
                        l.maxInflightBytes(), l.maxEventBytes(), connections),
                d.wal(), d.forwarder()).withoutForwarder();
        IntakeServer s = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
        open.add(s);
        return s;
    }

    @Test
    void oneAddressCannotTakeMoreThanItsShareAndOthersAreStillServed() throws Exception {
        IntakeServer server = start(new IntakeConfig.Connections(50, 3, 0, Duration.ofMinutes(5), Duration.ofSeconds(10)));
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(connect("127.0.0.2", server.grpcPort()));
        }
        Socket fourth = connect("127.0.0.2", server.grpcPort());
        assertTrue(closedByServer(fourth, Duration.ofSeconds(5)), "a fourth connection from 127.0.0.2 is closed");
        for (Socket s : held) {
            assertFalse(closedByServer(s, Duration.ofMillis(200)), "the first three stay open");
        }
        assertPersisted(server, "agent-a"); // from 127.0.0.1
        held.get(0).close();
        awaitOpen(server, "grpc", 2); // the two left from 127.0.0.2 (the client has closed its own)
        Socket again = connect("127.0.0.2", server.grpcPort());
        assertFalse(closedByServer(again, Duration.ofMillis(500)), "a closed connection gives its place back");
        String metrics = metrics(server);
        assertTrue(metrics.contains("holdfast_connections_refused_total{port=\"grpc\",reason=\"per_address\"} 1.0"),
                metrics.lines().filter(x -> x.contains("connections")).toList().toString());
        held.forEach(ConnectionLimitsTest::closeQuietly);
        again.close();
    }

    @Test
    void connectionsInTotalAreBoundedWhateverTheirAddresses() throws Exception {
        IntakeServer server = start(new IntakeConfig.Connections(4, 4, 0, Duration.ofMinutes(5), Duration.ofSeconds(10)));
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(connect("127.0.0." + (10 + i), server.grpcPort()));
        }
        Socket fifth = connect("127.0.0.20", server.grpcPort());
        assertTrue(closedByServer(fifth, Duration.ofSeconds(5)), "the fifth connection is closed");
        held.remove(0).close();
        awaitOpen(server, "grpc", 3);
        assertPersisted(server, "agent-b");
        held.forEach(ConnectionLimitsTest::closeQuietly);
    }

    @Test
    void aSilentOrIdleConnectionIsClosed() throws Exception {
        IntakeServer server = start(new IntakeConfig.Connections(50, 10, 0, Duration.ofSeconds(1), Duration.ofSeconds(1)));
        Socket silent = connect("127.0.0.2", server.grpcPort());
        assertTrue(closedByServer(silent, Duration.ofSeconds(10)), "a connection that never sends a byte is closed");
        // one that made a call and then sits idle is closed too (GOAWAY, then the close)
        try (TestClient c = new TestClient(server.grpcPort())) {
            assertEquals(BatchAck.Status.PERSISTED,
                    c.blocking().send(TestClient.batch("agent-c", 1, 2, Priority.NORMAL, 10)).getStatus());
            awaitOpen(server, "grpc", 1);
            awaitOpen(server, "grpc", 0);
        }
    }

    @Test
    void anHttpRequestTrickledAByteAtATimeIsCutOffAndHealthzStillAnswers() throws Exception {
        IntakeServer server = start(new IntakeConfig.Connections(50, 10, 0, Duration.ofMinutes(5), Duration.ofMillis(500)));
        Socket slow = connect("127.0.0.2", server.httpPort());
        OutputStream out = slow.getOutputStream();
        byte[] request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        long t0 = System.nanoTime();
        boolean cut = false;
        for (byte b : request) {
            try {
                out.write(b);
                out.flush();
            } catch (IOException e) {
                cut = true;
                break;
            }
            if (closedByServer(slow, Duration.ofMillis(100))) {
                cut = true;
                break;
            }
        }
        assertTrue(cut, "the trickled request was never cut off");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 5_000, "cut off after " + ms + " ms, the deadline is 500 ms");
        HttpResponse<String> healthz = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, healthz.statusCode());
    }

    @Test
    void aConnectionHoldingTooManyUnfinishedMessagesIsClosedAndOthersAreServed() throws Exception {
        // 1 MiB batches: the largest message read is 2 x 1 MiB + 1 MiB; a connection may hold 5 MiB of messages in
        // progress, all connections 9 MiB
        IntakeServer server = start(1 << 20, new IntakeConfig.Connections(50, 50, 0, Duration.ofMinutes(5),
                Duration.ofSeconds(10), 5 << 20, 9 << 20));
        int size = 3 << 20; // 3 MiB minus one byte reach the intake
        String held = "holdfast_partial_message_bytes";
        CountDownLatch releaseOne = new CountDownLatch(1);
        try (Stalled oneConnection = new Stalled(server.grpcPort(), 1, 3, size, releaseOne)) {
            // two messages fit the connection's budget, the third does not: the connection is closed
            assertEquals(1.0, awaitMetric(server, refused("partial_bytes"), 1.0));
            // (the client reconnects, for its other calls: a connection is closed, not an address banned)
            assertEquals(0.0, awaitMetric(server, held, 0.0), "the closed connection's streams gave their bytes back");
            assertPersisted(server, "well-behaved");
        } finally {
            releaseOne.countDown();
        }
        CountDownLatch releaseFive = new CountDownLatch(1);
        try (Stalled fiveConnections = new Stalled(server.grpcPort(), 5, 1, size, releaseFive)) {
            // each connection is within its budget, 3 MiB each; the fourth and the fifth take all of them over
            // 9 MiB: two connections are closed, one at a time, and three stay
            assertEquals(2.0, awaitMetric(server, refused("partial_bytes_total"), 2.0));
            double left = metric(server, held);
            assertTrue(left > 6 << 20 && left <= 9 << 20, "three connections hold their 3 MiB each: " + left);
            assertPersisted(server, "well-behaved-2");
            assertEquals(1.0, metric(server, refused("partial_bytes")), "no connection went over its own budget");
        } finally {
            releaseFive.countDown();
        }
        assertEquals(0.0, awaitMetric(server, held, 0.0), "closed calls give their bytes back");
    }

    private static String refused(String reason) {
        return "holdfast_connections_refused_total{port=\"grpc\",reason=\"" + reason + "\"}";
    }

    /** Calls that each send a message one byte short of {@code size} and stall, over {@code connections}. */
    private static final class Stalled implements AutoCloseable {
        private static final io.grpc.MethodDescriptor<InputStream, byte[]> SEND = dev.holdfast.protocol.v1
                .IntakeServiceGrpc.getSendMethod().toBuilder(StallingMessage.marshaller(),
                        new dev.holdfast.protocol.ByteArrayMarshaller()).build();
        private final List<io.grpc.ManagedChannel> channels = new ArrayList<>();

        Stalled(int port, int connections, int callsEach, int size, CountDownLatch release)
                throws InterruptedException {
            AtomicLong streamed = new AtomicLong();
            for (int c = 0; c < connections; c++) {
                io.grpc.ManagedChannel ch = io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", port)
                        .usePlaintext().build();
                channels.add(ch);
                StallingMessage.awaitReady(ch, Duration.ofSeconds(10));
                StallingMessage.flushEvery(Duration.ofMillis(50), () -> dev.holdfast.protocol.v1.IntakeServiceGrpc
                        .newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .resume(dev.holdfast.protocol.v1.Hello.newBuilder().setAgentId("flusher").build()), release);
                for (int i = 0; i < callsEach; i++) {
                    Thread t = new Thread(() -> {
                        try {
                            io.grpc.stub.ClientCalls.blockingUnaryCall(ch, SEND, io.grpc.CallOptions.DEFAULT
                                    .withDeadlineAfter(60, TimeUnit.SECONDS), new StallingMessage(size, release, streamed));
                        } catch (RuntimeException e) {
                            // released, or its connection closed: the intake's metrics say which
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                }
            }
        }

        @Override
        public void close() {
            channels.forEach(io.grpc.ManagedChannel::shutdownNow);
        }
    }

    private static double metric(IntakeServer server, String series) throws Exception {
        String prefix = series + " ";
        return metrics(server).lines().filter(l -> l.startsWith(prefix)).mapToDouble(
                l -> Double.parseDouble(l.substring(prefix.length()).trim())).findFirst().orElse(Double.NaN);
    }

    private static double awaitMetric(IntakeServer server, String series, double expected) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        double value = metric(server, series);
        while (value != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            value = metric(server, series);
        }
        return value;
    }

    private void assertPersisted(IntakeServer server, String agent) throws Exception {
        try (TestClient c = new TestClient(server.grpcPort())) {
            BatchAck ack = c.blocking().send(TestClient.batch(agent, 1, 2, Priority.NORMAL, 10));
            assertEquals(BatchAck.Status.PERSISTED, ack.getStatus());
        }
    }

    private static Socket connect(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        return s;
    }

    /** True when the server closed the socket (EOF or reset) within the wait; false when it stays open. */
    private static boolean closedByServer(Socket s, Duration wait) throws IOException {
        s.setSoTimeout((int) Math.max(1, wait.toMillis()));
        try {
            InputStream in = s.getInputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
                // gRPC's server preface (SETTINGS) may come first: read on
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private static void awaitOpen(IntakeServer server, String port, int expected) throws Exception {
        String line = "holdfast_connections_open{port=\"" + port + "\"} " + expected + ".0";
        long deadline = System.nanoTime() + 10_000_000_000L;
        String metrics = "";
        while (System.nanoTime() < deadline) {
            metrics = metrics(server);
            if (metrics.contains(line)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("never " + line + ": "
                + metrics.lines().filter(x -> x.startsWith("holdfast_connections")).toList());
    }

    private static String metrics(IntakeServer server) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
