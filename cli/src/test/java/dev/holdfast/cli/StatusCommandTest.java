package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code holdfast status}: the real command line, in-process, against a real intake and against wrong answers. */
class StatusCommandTest {
    @TempDir
    Path tmp;

    @Test
    void summarisesALiveIntakeAndItsAgent() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("cli-node", tmp.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder()).withoutForwarder();
        try (IntakeServer intake = new IntakeServer(cfg, IntakeServer.newRegistry()).start()) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", intake.grpcPort()).usePlaintext().build();
            BlockingQueue<IntakeMessage> answers = new LinkedBlockingQueue<>();
            StreamObserver<AgentMessage> stream = IntakeServiceGrpc.newStub(channel).stream(new StreamObserver<>() {
                public void onNext(IntakeMessage m) { answers.add(m); }
                public void onError(Throwable t) { }
                public void onCompleted() { }
            });
            try {
                stream.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("cli-agent")).build());
                assertTrue(answers.poll(10, TimeUnit.SECONDS).hasWelcome());
                for (long seq = 1; seq <= 10; seq++) {
                    EventBatch.Builder b = EventBatch.newBuilder().setAgentId("cli-agent").setBatchSeq(seq);
                    for (int i = 0; i < 10; i++) {
                        b.addEvents(Event.newBuilder().setTimeUnixNano(1).setFile(
                                FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/tmp/" + i)));
                    }
                    stream.onNext(AgentMessage.newBuilder().setBatch(b).build());
                }
                for (int i = 0; i < 10; i++) {
                    assertTrue(answers.poll(10, TimeUnit.SECONDS).hasAck());
                }
                Thread.sleep(1_500); // a sample or two: the rates and latency come from the one-second history

                String address = "127.0.0.1:" + intake.httpPort();
                CliErrorsTest.Run r = CliErrorsTest.run("status", "--http", address);
                assertEquals(0, r.exitCode(), r.toString());
                String out = r.stdout();
                assertTrue(out.startsWith("Holdfast intake cli-node at " + address + ": ready\n"), out);
                assertTrue(out.contains("  durability   fsync (acknowledged once the WAL is synced"), out);
                assertTrue(out.contains("  events out   not forwarding"), out);
                assertTrue(out.contains("Forwarder      off\n  forwarder not running"), out);
                assertTrue(out.contains("priorities   CRITICAL accepted, NORMAL accepted, BULK accepted"), out);
                assertTrue(out.contains("Agents         1 connected"), out);
                assertTrue(out.lines().anyMatch(l -> l.startsWith("  cli-agent") && l.contains("last ack seq 10 (")
                        && l.contains("10 batches acked")), out);
                assertTrue(out.contains("Refused        none"), out);

                CliErrorsTest.Run json = CliErrorsTest.run("status", "--http", address, "--json");
                assertEquals(0, json.exitCode(), json.toString());
                assertEquals("cli-node", new ObjectMapper().readTree(json.stdout()).at("/node/id").asText());
            } finally {
                stream.onCompleted();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void anUnreachableIntakeIsOneLineNamingTheAddress() throws Exception {
        int port = FreePorts.next(); // nothing listens there
        CliErrorsTest.Run r = CliErrorsTest.run("status", "--http", "127.0.0.1:" + port);
        assertOneLine(r, ExitCodes.FAILED, "holdfast status: cannot reach the intake's HTTP port at 127.0.0.1:" + port
                + ": connection refused (is the intake running, and is this its http.port?)");
    }

    @Test
    void aBadAddressIsAUsageError() {
        CliErrorsTest.Run r = CliErrorsTest.run("status", "--http", "localhost");
        assertOneLine(r, ExitCodes.USAGE,
                "holdfast status: --http: expected HOST:PORT (e.g. 127.0.0.1:8080), not 'localhost'");
    }

    /** Something else on the port: a web page, other JSON, a refusal. Each is one line naming the address. */
    @Test
    void answersThatAreNotAStatusDocumentAreOneLineEach() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String[] body = {""};
        int[] code = {200};
        server.createContext("/api/status", exchange -> {
            byte[] bytes = body[0].getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(code[0], bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        try {
            String address = "127.0.0.1:" + server.getAddress().getPort();
            body[0] = "<html><body>It works!</body></html>";
            CliErrorsTest.Run html = CliErrorsTest.run("status", "--http", address);
            assertEquals(ExitCodes.FAILED, html.exitCode(), html.toString());
            assertEquals(1, html.reportLines().size(), html.report());
            assertTrue(html.reportLines().get(0).startsWith("holdfast status: " + address + "/api/status is not JSON ("),
                    html.report());

            body[0] = "{\"status\":\"ok\"}";
            assertOneLine(CliErrorsTest.run("status", "--http", address), ExitCodes.FAILED, "holdfast status: " + address
                    + "/api/status is JSON but not a Holdfast status document (no node.id): is this a Holdfast intake's"
                    + " HTTP port?");

            body[0] = "a bearer token is required\n";
            code[0] = 401;
            assertOneLine(CliErrorsTest.run("status", "--http", address), ExitCodes.FAILED, "holdfast status: " + address
                    + " asks for its HTTP bearer token (auth.httpToken) from this address; pass it with --token-file");

            body[0] = "status report failed: boom\nsecond line";
            code[0] = 500;
            assertOneLine(CliErrorsTest.run("status", "--http", address), ExitCodes.FAILED,
                    "holdfast status: " + address + " answered HTTP 500: status report failed: boom");
        } finally {
            server.stop(0);
        }
    }

    private static void assertOneLine(CliErrorsTest.Run r, int exitCode, String line) {
        assertEquals(List.of(line), r.reportLines(), r.toString());
        assertEquals(exitCode, r.exitCode(), r.toString());
        assertFalse(r.everythingOnStderr().contains("\tat "), "no stack trace without --debug: " + r);
        assertEquals("", r.stdout(), "nothing printed but the error");
    }
}
