package dev.holdfast.intake;

import dev.holdfast.testkit.OwnAddress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.holdfast.intake.auth.Tokens;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** GET / and GET /api/status on a real intake: the figures follow real batches over gRPC, and access is /metrics'. */
class StatusEndpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    /** As --insecure: a plaintext HTTP port on every address, so that a client can reach it from a non-loopback one. */
    private static final IntakeConfig.Tls PLAINTEXT_ANYWHERE = new IntakeConfig.Tls(null, null, null,
            IntakeConfig.Tls.ClientAuth.REQUIRE, false, true, IntakeConfig.Tls.OFF.reloadInterval());

    private IntakeServer start(String httpHost, IntakeConfig.Auth auth) throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("status-node", tmp.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint(httpHost, 0),
                d.limits(), d.wal(), d.forwarder(), PLAINTEXT_ANYWHERE, auth).withoutForwarder();
        IntakeServer s = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
        open.add(s);
        return s;
    }

    private HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode status(IntakeServer s) throws Exception {
        HttpResponse<String> r = get("http://127.0.0.1:" + s.httpPort() + "/api/status", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        return JSON.readTree(r.body());
    }

    /** Polls /api/status until the condition holds (the sampler runs once a second), or fails with the last answer. */
    private JsonNode awaitStatus(IntakeServer s, Predicate<JsonNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status(s);
            if (condition.test(last)) return last;
            Thread.sleep(100);
        }
        throw new AssertionError("within 10 s: " + what + "; last /api/status: " + last);
    }

    @Test
    void figuresFollowRealBatchesAndTheAgentStream() throws Exception {
        IntakeServer server = start("127.0.0.1", IntakeConfig.Auth.NONE);
        JsonNode before = status(server);
        assertEquals("status-node", before.at("/node/id").asText());
        assertEquals("fsync", before.at("/node/durability").asText());
        assertTrue(before.at("/node/durabilityMeaning").asText().contains("power loss"), before.toString());
        assertEquals("off", before.at("/forwarder/state").asText());
        assertTrue(before.at("/forwarder/detail").asText().startsWith("forwarder not running"), before.toString());
        assertEquals(0, before.at("/forwarder/lanes").size(), "no lane figures without a forwarder");
        assertEquals(0, before.at("/agents/connected").asInt());
        assertEquals("OK", before.at("/wal/pressure").asText());
        assertEquals("accepted", before.at("/wal/priorities/BULK").asText());
        long walBytesBefore = before.at("/wal/bytes").asLong();
        assertTrue(before.at("/wal/budgetBytes").asLong() > 0, before.toString());

        TestClient client = new TestClient(server.grpcPort());
        open.add(client);
        TestClient.Stream stream = client.stream();
        stream.hello("status-agent");
        JsonNode connected = awaitStatus(server, s -> s.at("/agents/connected").asInt() == 1, "the stream listed");
        assertEquals("status-agent", connected.at("/agents/list/0/agentId").asText());
        assertTrue(connected.at("/agents/list/0/lastAckSeq").isNull(), "no ack yet: " + connected);

        for (int seq = 1; seq <= 40; seq++) {
            stream.send(TestClient.batch("status-agent", seq, 25, Priority.NORMAL, 200));
        }
        for (int i = 0; i < 40; i++) {
            assertEquals(BatchAck.Status.PERSISTED, stream.next().getAck().getStatus());
        }
        // 1,000 events in well under a second: some one-second sample must show them, with their latency
        JsonNode moved = awaitStatus(server, s -> {
            for (JsonNode sample : s.get("history")) {
                if (sample.get("eventsInPerSecond").asDouble() > 0) return true;
            }
            return false;
        }, "a sample with events in");
        double eventsIn = 0;
        double batchesAcked = 0;
        boolean latency = false;
        for (JsonNode sample : moved.get("history")) {
            double seconds = JSON.convertValue(sample.get("eventsInPerSecond"), Double.class);
            eventsIn += seconds; // each sample covers one second, so the rates add up to the events
            batchesAcked += sample.get("batchesAckedPerSecond").asDouble();
            latency |= sample.get("ackP99Millis").isNumber() && sample.get("ackP99Millis").asDouble() > 0;
            assertTrue(sample.get("eventsOutLivePerSecond").isNull(), "no forwarder, no out rate: " + sample);
        }
        JsonNode after = awaitStatus(server, s -> "40".equals(s.at("/agents/list/0/lastAckSeq").asText()),
                "the agent's last ack seq 40");
        assertTrue(after.at("/wal/bytes").asLong() > walBytesBefore, "the WAL grew: " + after.get("wal"));
        assertTrue(after.at("/agents/list/0/lastAckAt").asLong() >= connected.at("/agents/list/0/connectedAt").asLong());
        assertEquals(40, after.at("/agents/list/0/acked").asLong());
        // sampling is per second on a busy machine: allow a little either way, but the figures must be of this load
        JsonNode all = awaitStatus(server, s -> sum(s, "eventsInPerSecond") >= 950, "rates adding up to 1,000 events");
        assertTrue(sum(all, "eventsInPerSecond") <= 1050, all.get("history").toString());
        assertTrue(sum(all, "batchesAckedPerSecond") >= 38, all.get("history").toString());
        assertTrue(latency || hasLatency(all), "an ack latency in some sample: " + all.get("history"));

        // the page's follow-up polls ask only for what they do not have
        long newest = all.at("/current/time").asLong();
        JsonNode since = JSON.readTree(get("http://127.0.0.1:" + server.httpPort() + "/api/status?since=" + newest,
                null).body());
        for (JsonNode sample : since.get("history")) {
            assertTrue(sample.get("time").asLong() > newest, since.toString());
        }
        assertEquals(400, get("http://127.0.0.1:" + server.httpPort() + "/api/status?since=yesterday", null).statusCode());

        stream.close();
        awaitStatus(server, s -> s.at("/agents/connected").asInt() == 0, "the ended stream no longer listed");
    }

    private static double sum(JsonNode status, String field) {
        double total = 0;
        for (JsonNode sample : status.get("history")) total += sample.get(field).asDouble();
        return total;
    }

    private static boolean hasLatency(JsonNode status) {
        for (JsonNode sample : status.get("history")) {
            if (sample.get("ackP50Millis").isNumber() && sample.get("ackP99Millis").asDouble() > 0) return true;
        }
        return false;
    }

    /** Any src=, href=, url(...) or @import naming another place than this page's own origin. */
    private static final Pattern EXTERNAL = Pattern.compile(
            "(?i)(src|href)\\s*=\\s*[\"']?\\s*(\\w+:|//)|url\\(\\s*[\"']?\\s*(\\w+:|//)|@import");

    @Test
    void thePageIsOneDocumentThatLoadsNothingFromElsewhere() throws Exception {
        IntakeServer server = start("127.0.0.1", IntakeConfig.Auth.NONE);
        HttpResponse<String> page = get("http://127.0.0.1:" + server.httpPort() + "/", null);
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("content-type").orElse(""));
        String html = page.body();
        assertTrue(html.startsWith("<!DOCTYPE html>"), html.substring(0, 40));
        assertTrue(html.contains("<style>") && html.contains("<script>"), "CSS and JS inline");
        assertFalse(html.contains("http://") || html.contains("https://"), "no absolute address anywhere in the page");
        Matcher external = EXTERNAL.matcher(html);
        assertFalse(external.find(), () -> "an external reference: " + external.group());
        assertTrue(html.contains("fetch(\"api/status"), "its figures come from this port's /api/status");
        String csp = page.headers().firstValue("content-security-policy").orElse("");
        assertTrue(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), csp);
        // the pattern itself can see an external reference
        assertTrue(EXTERNAL.matcher("<script src=\"https://cdn.example/x.js\">").find());
        assertTrue(EXTERNAL.matcher("<link href='//fonts.example/f.css'>").find());
    }

    /** Over this machine's own non-loopback address: /api/status wants the token as /metrics does; / does not. */
    @Test
    void otherAddressesNeedTheHttpTokenForTheFiguresNotForThePage() throws Exception {
        Optional<InetAddress> own = OwnAddress.nonLoopbackIpv4();
        assumeTrue(own.isPresent(), "no non-loopback IPv4 address on this machine");
        IntakeServer server = start("0.0.0.0", new IntakeConfig.Auth(IntakeConfig.Auth.Require.NONE, null, List.of(),
                Tokens.hash("status-token")));
        String remote = "http://" + own.get().getHostAddress() + ":" + server.httpPort();
        HttpResponse<String> denied = get(remote + "/api/status", null);
        assertEquals(401, denied.statusCode(), denied.body());
        assertEquals("Bearer", denied.headers().firstValue("www-authenticate").orElse(""));
        assertEquals(401, get(remote + "/api/status", "wrong-token").statusCode());
        HttpResponse<String> allowed = get(remote + "/api/status", "status-token");
        assertEquals(200, allowed.statusCode());
        assertNotNull(JSON.readTree(allowed.body()).get("wal"));
        assertEquals(200, get(remote + "/", null).statusCode(), "the page holds no figure; it asks for the token");
        assertEquals(200, get("http://127.0.0.1:" + server.httpPort() + "/api/status", null).statusCode(),
                "loopback never needs it");
    }
}
