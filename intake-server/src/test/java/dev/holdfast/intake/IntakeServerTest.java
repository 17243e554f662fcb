package dev.holdfast.intake;

import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.grpc.IntakeGrpcService;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class IntakeServerTest {
    @RegisterExtension
    final IntakeFixture intake = IntakeFixture.forEachTest();

    private IntakeConfig config(IntakeConfig.Limits limits, IntakeConfig.Wal wal) {
        IntakeConfig d = IntakeConfig.defaults();
        return new IntakeConfig("test-node", intake.dataDir(), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                limits == null ? d.limits() : limits, wal == null ? d.wal() : wal, d.forwarder()).withoutForwarder();
    }

    private IntakeServer start(IntakeConfig cfg) throws Exception {
        return intake.start(cfg);
    }

    private TestClient client(IntakeServer s) {
        return intake.track(new TestClient(s.grpcPort()));
    }

    @Test
    void streamAcksEveryBatchAfterPersistingItsExactBytes() throws Exception {
        IntakeServer server = start(config(null, null));
        TestClient.Stream stream = client(server).stream();
        Welcome w = stream.hello("agent-1").getWelcome();
        assertEquals(0, w.getPersistedThrough());
        assertEquals("test-node", w.getIntakeNode());
        List<EventBatch> sent = new ArrayList<>();
        for (int seq = 1; seq <= 50; seq++) {
            EventBatch b = TestClient.batch("agent-1", seq, 20, Priority.NORMAL, 100);
            sent.add(b);
            stream.send(b);
        }
        Map<Long, BatchAck.Status> acks = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            BatchAck a = stream.next().getAck();
            acks.put(a.getBatchSeq(), a.getStatus());
        }
        assertEquals(50, acks.size());
        assertTrue(acks.values().stream().allMatch(s -> s == BatchAck.Status.PERSISTED), acks.toString());
        Map<String, byte[]> wal = intake.walContents();
        assertEquals(50, wal.size());
        for (EventBatch b : sent) {
            assertArrayEquals(b.toByteArray(), wal.get("agent-1#" + b.getBatchSeq()));
        }
    }

    @Test
    void unarySendPersistsAndAnswersDuplicateForAResend() throws Exception {
        IntakeServer server = start(config(null, null));
        TestClient c = client(server);
        EventBatch b = TestClient.batch("u", 1, 5, Priority.NORMAL, 10);
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(b).getStatus());
        BatchAck again = c.blocking().send(b);
        assertEquals(BatchAck.Status.DUPLICATE, again.getStatus());
        assertEquals(1, again.getBatchSeq());
        assertEquals(1, c.blocking().resume(Hello.newBuilder().setAgentId("u").build()).getPersistedThrough());
        assertEquals(1, intake.walContents().size());
    }

    @Test
    void reconnectingAgentResumesAndNothingIsDoubledAcrossRestart() throws Exception {
        IntakeConfig cfg = config(null, null);
        IntakeServer server = start(cfg);
        // an agent resends the very bytes it sent before (its spool keeps them)
        Map<Long, EventBatch> batches = new HashMap<>();
        for (long seq = 1; seq <= 12; seq++) batches.put(seq, TestClient.batch("r", seq, 3, Priority.NORMAL, 10));
        try (TestClient c = new TestClient(server.grpcPort())) {
            TestClient.Stream s = c.stream();
            s.hello("r");
            for (long seq = 1; seq <= 10; seq++) s.send(batches.get(seq));
            for (int i = 0; i < 10; i++) assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        }
        intake.stop();
        server = start(cfg); // same data directory: per-agent state must survive the restart
        TestClient.Stream s = client(server).stream();
        Welcome w = s.hello("r").getWelcome();
        assertEquals(10, w.getPersistedThrough());
        for (long seq = 8; seq <= 12; seq++) s.send(batches.get(seq));
        Map<Long, BatchAck.Status> acks = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            BatchAck a = s.next().getAck();
            acks.put(a.getBatchSeq(), a.getStatus());
        }
        assertEquals(Map.of(8L, BatchAck.Status.DUPLICATE, 9L, BatchAck.Status.DUPLICATE, 10L, BatchAck.Status.DUPLICATE,
                11L, BatchAck.Status.PERSISTED, 12L, BatchAck.Status.PERSISTED), acks);
        assertEquals(12, intake.walContents().size());
    }

    @Test
    void everyInvalidInputIsAnsweredPreciselyAndNothingIsWritten() throws Exception {
        IntakeServer server = start(config(new IntakeConfig.Limits(64 * 1024, 10, 16, 64L << 20, 0), null));
        TestClient c = client(server);
        TestClient.Stream s = c.stream();
        s.hello("agent-x");

        s.sendRawBatch(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02});
        assertInvalid(s.next(), 0, "malformed protobuf");
        s.sendRawMessage(new byte[]{0x0a, (byte) 0x80}); // truncated AgentMessage
        assertInvalid(s.next(), 0, "malformed protobuf");
        s.send(TestClient.batch("", 1, 1, Priority.NORMAL, 1));
        assertInvalid(s.next(), 1, "agent_id is empty");
        s.send(TestClient.batch("agent-x", 2, 1, Priority.NORMAL, 70_000));
        assertInvalid(s.next(), 0, "over the limit of 65536 bytes (limits.maxBatchBytes)");
        s.send(TestClient.batch("agent-x", 3, 11, Priority.NORMAL, 1));
        assertInvalid(s.next(), 3, "batch has 11 events, over the limit of 10 (limits.maxEventsPerBatch)");
        s.send(TestClient.batch("agent-x", 0, 1, Priority.NORMAL, 1));
        assertInvalid(s.next(), 0, "batch_seq must be at least 1");
        s.send(EventBatch.newBuilder().setAgentId("agent-x").setBatchSeq(4).build());
        assertInvalid(s.next(), 4, "batch has no events");
        s.send(TestClient.batch("other-agent", 5, 1, Priority.NORMAL, 1));
        assertInvalid(s.next(), 5, "does not match the stream's hello.agent_id");
        s.send(TestClient.batch("a-very-long-agent-id-indeed", 6, 1, Priority.NORMAL, 1));
        assertInvalid(s.next(), 6, "agent_id is 27 bytes, over the limit of 16");

        // unary: malformed bytes become INVALID_ARGUMENT with the same precise message
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> c.sendRaw(new byte[]{(byte) 0xff, (byte) 0xff, 0x01}));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("malformed protobuf"), e.getStatus().getDescription());
        assertEquals(BatchAck.Status.INVALID, e.getTrailers().get(IntakeGrpcService.ACK).getStatus());

        // the stream survived all of it and still persists a good batch
        s.send(TestClient.batch("agent-x", 7, 1, Priority.NORMAL, 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(List.of("agent-x#7"), new ArrayList<>(intake.walContents().keySet()));
    }

    private static void assertInvalid(IntakeMessage m, long seq, String messagePart) {
        BatchAck a = m.getAck();
        assertEquals(BatchAck.Status.INVALID, a.getStatus(), a.toString());
        assertEquals(seq, a.getBatchSeq(), a.toString());
        assertTrue(a.getMessage().contains(messagePart), "expected '" + messagePart + "' in: " + a.getMessage());
    }

    @Test
    void diskPressureShedsByPriorityWithRetryAfterAndReadinessFollows() throws Exception {
        IntakeConfig.Wal w = IntakeConfig.defaults().wal();
        IntakeConfig.Wal small = new IntakeConfig.Wal(2L << 20, 0, 0.5, 0.75, Duration.ofMillis(300),
                w.groupCommitMaxDelay(), w.groupCommitMaxBytes(), w.rollCycle(), 1L << 20);
        // 1 MiB blocks take records of at most 255 KiB: the batch limit must fit (the config refuses it otherwise)
        IntakeServer server = start(config(new IntakeConfig.Limits(200 * 1024, 10_000, 256, 64L << 20, 0), small));
        TestClient c = client(server);
        TestClient.Stream s = c.stream();
        s.hello("p");
        List<String> persisted = new ArrayList<>();
        long[] seq = {0};

        BatchAck a = fillUntilShed(s, Priority.BULK, seq, persisted);
        assertTrue(a.getRetryAfterMs() >= 300, a.toString());
        assertTrue(a.getMessage().contains("BULK batches are shed"), a.getMessage());
        int bulkAccepted = persisted.size();
        assertTrue(bulkAccepted > 10);

        a = fillUntilShed(s, Priority.NORMAL, seq, persisted);
        assertTrue(persisted.size() > bulkAccepted, "NORMAL must still be accepted when BULK is shed");
        assertTrue(a.getMessage().contains("NORMAL batches are shed"), a.getMessage());
        assertTrue(server.readiness().ready());

        // unary callers get RESOURCE_EXHAUSTED with the retry-after in the trailers
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> c.blocking().send(TestClient.batch("q", 1, 10, Priority.NORMAL, 2000)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(Integer.parseInt(e.getTrailers().get(IntakeGrpcService.RETRY_AFTER_MS)) >= 300);
        assertEquals(BatchAck.Status.RETRY_LATER, e.getTrailers().get(IntakeGrpcService.ACK).getStatus());

        int normalAccepted = persisted.size();
        fillUntilShed(s, Priority.CRITICAL, seq, persisted);
        assertTrue(persisted.size() > normalAccepted, "CRITICAL must be kept until the hard limit");
        assertFalse(server.readiness().ready());
        HttpResponse<String> readyz = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, readyz.statusCode());
        // the gRPC health service agrees with /readyz within its one-second poll
        io.grpc.ManagedChannel probe = io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext().build();
        try {
            var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(probe);
            io.grpc.health.v1.HealthCheckResponse.ServingStatus status = null;
            for (int i = 0; i < 50; i++) {
                status = health.withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
                        .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus();
                if (status == io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING, status);
        } finally {
            probe.shutdownNow();
        }

        // nothing acknowledged was lost, nothing shed was written
        List<String> inWal = new ArrayList<>(intake.walContents().keySet());
        inWal.sort(null);
        persisted.sort(null);
        assertEquals(persisted, inWal);
    }

    private static BatchAck fillUntilShed(TestClient.Stream s, Priority p, long[] seq, List<String> persisted)
            throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            long n = ++seq[0];
            s.send(TestClient.batch("p", n, 10, p, 2000));
            BatchAck a = s.next().getAck();
            if (a.getStatus() == BatchAck.Status.PERSISTED) {
                persisted.add("p#" + n);
            } else {
                assertEquals(BatchAck.Status.RETRY_LATER, a.getStatus(), a.toString());
                return a;
            }
        }
        throw new AssertionError(p + " was never shed");
    }

    @Test
    void overloadIsAnsweredRetryLaterNotQueued() throws Exception {
        IntakeConfig.Wal w = IntakeConfig.defaults().wal();
        // a long group-commit linger keeps the first batch in flight while the next ones arrive
        IntakeConfig.Wal slow = new IntakeConfig.Wal(w.maxBytes(), w.minFreeBytes(), w.bulkWatermark(),
                w.normalWatermark(), w.retryAfter(), Duration.ofMillis(100), 64L << 20, w.rollCycle(), w.blockSize());
        IntakeServer server = start(config(new IntakeConfig.Limits(200_000, 10_000, 256, 256 * 1024, 0), slow));
        TestClient.Stream s = client(server).stream();
        s.hello("o");
        for (int seq = 1; seq <= 6; seq++) s.send(TestClient.batch("o", seq, 10, Priority.NORMAL, 10_000));
        int persisted = 0;
        int retry = 0;
        for (int i = 0; i < 6; i++) {
            BatchAck a = s.next().getAck();
            if (a.getStatus() == BatchAck.Status.PERSISTED) persisted++;
            if (a.getStatus() == BatchAck.Status.RETRY_LATER) {
                retry++;
                assertTrue(a.getMessage().contains("limits.maxInflightBytes"), a.getMessage());
                assertTrue(a.getRetryAfterMs() >= IntakeServer.OVERLOAD_RETRY_AFTER_MS);
            }
        }
        assertTrue(persisted >= 1 && retry >= 1, "persisted " + persisted + ", retry " + retry);
        assertEquals(persisted, intake.walContents().size());
    }

    @Test
    void metricsExposeTheDurabilityPath() throws Exception {
        IntakeServer server = start(config(null, null));
        TestClient c = client(server);
        c.blocking().send(TestClient.batch("m", 1, 7, Priority.NORMAL, 10));
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("holdfast_wal_appended_batches_total 1.0"), metrics);
        assertTrue(metrics.contains("holdfast_wal_appended_events_total 7.0"));
        assertTrue(metrics.contains("holdfast_wal_sync_duration_seconds_count"));
        assertTrue(metrics.contains("holdfast_intake_ack_latency_seconds_bucket"));
        assertTrue(metrics.contains("holdfast_wal_size_bytes"));
        assertTrue(metrics.contains("holdfast_wal_disk_free_bytes"));
        assertTrue(metrics.contains("holdfast_intake_acks_total{status=\"PERSISTED\"} 1.0"));
    }

    @Test
    void aFreshIntakesScrapeIsComplete() throws Exception {
        IntakeServer server = start(config(null, null));
        URI uri = URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics");
        HttpResponse<String> text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(),
                HttpResponse.BodyHandlers.ofString());
        String metrics = text.body();
        // the JVM and the process under the names stock JVM dashboards select; Holdfast's own under holdfast_
        for (String standard : List.of("jvm_memory_used_bytes", "jvm_gc_", "jvm_threads_live_threads",
                "process_cpu_usage", "process_uptime_seconds", "process_files_open_files", "system_cpu_count")) {
            assertTrue(metrics.contains("\n" + standard), standard + " missing");
        }
        assertFalse(metrics.contains("holdfast_jvm_") || metrics.contains("holdfast_process_"), metrics);
        // every counter a rate or an alert is built on exists before its first increment
        for (String status : List.of("PERSISTED", "DUPLICATE", "RETRY_LATER", "INVALID")) {
            assertTrue(metrics.contains("holdfast_intake_acks_total{status=\"" + status + "\"} 0.0"), status);
        }
        for (String reason : IntakeMetrics.REJECTION_REASONS) {
            assertTrue(metrics.contains("holdfast_intake_rejections_total{reason=\"" + reason + "\"} 0.0"), reason);
        }
        // every family says what it is
        List<String> unexplained = metrics.lines().filter(l -> l.startsWith("# HELP ")
                && l.substring(7).strip().indexOf(' ') < 0).toList();
        assertTrue(unexplained.isEmpty(), "families without help text: " + unexplained);
        // Prometheus asks for OpenMetrics by default, and gets it
        HttpResponse<String> open = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).header("Accept",
                "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8",
                open.headers().firstValue("content-type").orElseThrow());
        assertTrue(open.body().endsWith("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
        assertTrue(open.body().contains("\nholdfast_intake_acks_total{status=\"PERSISTED\"} 0"), open.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", text.headers().firstValue("content-type").orElseThrow());
    }
}
