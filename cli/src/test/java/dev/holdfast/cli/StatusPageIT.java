package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.broker.KafkaBrokerProcess;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Priority;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status page in a real browser: a `holdfast intake` process forwarding to a real Kafka broker process, two
 * agents streaming batches to it over gRPC from threads of this test, and the page at / opened in headless chromium.
 * The figures must render (rates, latency, WAL, forwarder lanes, agents, the lag chart) and change between two reads a
 * few seconds apart; a screenshot of the page is saved as target/status-page.png. `holdfast status` is run against
 * the same intake as a process, as an operator would.
 */
class StatusPageIT {
    /** What the page shows, read from its elements in one evaluation; null before the page has loaded. */
    private static final String READ_PAGE = """
            !document.getElementById('conn') ? null : JSON.stringify({
              updatedAt: document.getElementById('conn').dataset.updatedAt || null,
              error: document.getElementById('error').style.display === 'block'
                  ? document.getElementById('error-text').textContent : null,
              node: document.getElementById('node-id').textContent,
              durability: document.getElementById('durability').textContent,
              eventsIn: document.getElementById('events-in').textContent,
              eventsOut: document.getElementById('events-out').textContent,
              ackP50: document.getElementById('ack-p50').textContent,
              ackP99: document.getElementById('ack-p99').textContent,
              walBytes: document.getElementById('wal-bytes').textContent,
              walBudget: document.getElementById('wal-budget').textContent,
              pressure: document.getElementById('wal-pressure').textContent,
              forwarder: document.getElementById('forwarder-state').textContent,
              circuit: document.getElementById('circuit').textContent,
              lanes: Array.from(document.querySelectorAll('#lanes tr')).map(r => r.textContent),
              agents: Array.from(document.querySelectorAll('#agents tr')).map(r => r.textContent),
              agentsCount: document.getElementById('agents-count').textContent,
              lagLines: document.querySelectorAll('#lag-chart polyline').length,
              rateLine: (document.querySelector('#rate-chart polyline') || {getAttribute: () => ''}).getAttribute('points')
            })""";

    @TempDir
    Path tmp;

    @Test
    void thePageRendersLiveFiguresThatChangeUnderLoad() throws Exception {
        int grpcPort = FreePorts.next();
        int httpPort = FreePorts.next();
        Path intakeLog = tmp.resolve("intake.log");
        try (HeadlessChromium browser = HeadlessChromium.start(tmp, 1280, 1000);
             KafkaBrokerProcess kafka = new KafkaBrokerProcess(tmp.resolve("kafka"), 0)) {
            kafka.start();
            HoldfastProcess intake = HoldfastProcess.start(intakeLog, "intake", "--data", tmp.resolve("data").toString(),
                    "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort),
                    "--otlp-http-port", "0", "--durability", "fsync", "--kafka", kafka.bootstrap(),
                    "--topic", "status-page-it");
            try (intake; Agent a = new Agent(grpcPort, "edge-node-1", 400); Agent b = new Agent(grpcPort, "edge-node-2", 150)) {
                HoldfastProcess.awaitReady(httpPort, Duration.ofSeconds(60), intake);
                a.start();
                b.start();
                browser.call("Page.enable", Map.of());
                browser.call("Page.navigate", Map.of("url", "http://127.0.0.1:" + httpPort + "/"));

                // rendered: the forwarder up, both agents listed, and a one-second sample that saw their batches
                JsonNode first = awaitPage(browser, p -> p.path("forwarder").asText().equals("running")
                        && p.path("agentsCount").asText().equals("2") && p.path("eventsIn").asText().matches("[0-9,.]+")
                        && rate(p.path("eventsIn").asText()) > 0 && p.path("ackP99").asText().endsWith(" ms")
                        && p.path("lagLines").asInt() == 2, Duration.ofSeconds(120), intakeLog);
                assertEquals("fsync", first.path("durability").asText(), first.toString());
                assertEquals("OK", first.path("pressure").asText(), first.toString());
                assertEquals("CLOSED", first.path("circuit").asText(), first.toString());
                assertTrue(first.path("walBytes").asText().matches("[0-9.]+ (B|KiB|MiB|GiB)"), first.toString());
                assertEquals(2, first.path("lanes").size(), first.toString());
                assertTrue(first.path("lanes").get(0).asText().startsWith("live"), first.toString());
                assertTrue(first.path("lanes").get(1).asText().startsWith("backlog"), first.toString());
                String agents = first.path("agents").toString();
                assertTrue(agents.contains("\"edge-node-1") && agents.contains("\"edge-node-2"), agents);

                Thread.sleep(Long.getLong("holdfast.statusPageIT.seconds", 4) * 1000);
                JsonNode second = readPage(browser);
                System.out.println("status page, first read:  " + first + "\nstatus page, second read: " + second);
                assertNotEquals(first.path("updatedAt").asText(), second.path("updatedAt").asText(),
                        "the page kept polling");
                assertNotEquals(first.path("walBytes").asText(), second.path("walBytes").asText(),
                        "the WAL grew under load and the page says so");
                assertNotEquals(first.path("agents").toString(), second.path("agents").toString(),
                        "the agents' last acks moved");
                assertNotEquals(first.path("rateLine").asText(), second.path("rateLine").asText(),
                        "the chart drew new samples");
                assertTrue(rate(second.path("eventsIn").asText()) > 0, second.toString());
                assertTrue(a.acked() > 0 && b.acked() > 0, "both agents were acknowledged");

                Path png = Path.of("target", "status-page.png").toAbsolutePath();
                Files.write(png, browser.screenshot());
                byte[] head = Files.readAllBytes(png);
                assertTrue(head.length > 10_000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G',
                        "a PNG screenshot at " + png);

                // the same intake in a terminal
                HoldfastProcess.Result status = HoldfastProcess.run(tmp.resolve("status.log"), Duration.ofSeconds(60),
                        "status", "--http", "127.0.0.1:" + httpPort);
                System.out.println(status.stdout());
                assertEquals(0, status.exitCode(), status.stdout());
                assertTrue(status.stdout().contains("Forwarder      running, circuit CLOSED"), status.stdout());
                assertTrue(status.stdout().contains("Agents         2 connected"), status.stdout());
                assertTrue(status.stdout().lines().anyMatch(l -> l.startsWith("  live ") && l.contains("lag ")),
                        status.stdout());
            }
        }
    }

    private static double rate(String text) {
        return Double.parseDouble(text.replace(",", ""));
    }

    private static JsonNode readPage(HeadlessChromium browser) throws Exception {
        JsonNode value = browser.evaluate(READ_PAGE);
        return value.isTextual() ? new com.fasterxml.jackson.databind.ObjectMapper().readTree(value.asText())
                : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static JsonNode awaitPage(HeadlessChromium browser, Predicate<JsonNode> rendered, Duration timeout,
                                      Path intakeLog) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = readPage(browser);
            if (rendered.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the page did not render the figures within " + timeout + ": " + last
                + "\nintake log: " + Files.readString(intakeLog) + "\nchromium log: " + Files.readString(browser.log()));
    }

    /** An agent: one stream, batches of 20 events at about {@code batchesPerSecond}, at most 32 unanswered. */
    private static final class Agent implements AutoCloseable {
        private final ManagedChannel channel;
        private final String id;
        private final long pauseNanos;
        private final Semaphore window = new Semaphore(32);
        private final AtomicLong acked = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;
        private volatile Throwable failure;

        Agent(int grpcPort, String id, int batchesPerSecond) {
            this.channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
            this.id = id;
            this.pauseNanos = TimeUnit.SECONDS.toNanos(1) / batchesPerSecond;
            this.thread = new Thread(this::run, "load-" + id);
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        long acked() {
            if (failure != null) {
                throw new AssertionError(id + "'s stream failed", failure);
            }
            return acked.get();
        }

        private void run() {
            StreamObserver<AgentMessage> out = IntakeServiceGrpc.newStub(channel).stream(new StreamObserver<>() {
                @Override
                public void onNext(IntakeMessage m) {
                    if (m.hasAck()) {
                        acked.incrementAndGet();
                        window.release();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    if (running) failure = t;
                    window.release(1000);
                }

                @Override
                public void onCompleted() {
                }
            });
            out.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(id)).build());
            try {
                for (long seq = 1; running && failure == null; seq++) {
                    window.acquire();
                    EventBatch.Builder b = EventBatch.newBuilder().setAgentId(id).setBatchSeq(seq);
                    for (int i = 0; i < 20; i++) {
                        b.addEvents(Event.newBuilder().setTimeUnixNano(System.currentTimeMillis() * 1_000_000)
                                .setPriority(i == 0 ? Priority.CRITICAL : Priority.NORMAL)
                                .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY)
                                        .setPath("/var/log/app/" + seq + "-" + i + ".log").setPid(4242).setComm("app")));
                    }
                    out.onNext(AgentMessage.newBuilder().setBatch(b).build());
                    TimeUnit.NANOSECONDS.sleep(pauseNanos);
                }
                out.onCompleted();
            } catch (InterruptedException e) {
                out.onError(e);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join(5000);
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
