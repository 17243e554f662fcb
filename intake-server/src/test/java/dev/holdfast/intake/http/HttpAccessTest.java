package dev.holdfast.intake.http;

import dev.holdfast.testkit.OwnAddress;
import dev.holdfast.metrics.Metrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.holdfast.intake.auth.Tokens;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The bearer token of the HTTP port: asked of clients not on loopback only, for /metrics, /readyz and /api/status. */
class HttpAccessTest {
    private static final HttpAccess TOKEN = new HttpAccess(Tokens.hash("scrape-me"));
    private static final InetSocketAddress REMOTE = new InetSocketAddress("192.0.2.77", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40000);

    @Test
    void loopbackAndHealthNeverNeedTheToken() {
        assertTrue(TOKEN.allowed("/metrics", LOCAL, null));
        assertTrue(TOKEN.allowed("/metrics", new InetSocketAddress("::1", 1), null));
        assertTrue(TOKEN.allowed("/healthz", REMOTE, null));
        assertTrue(TOKEN.allowed("/", REMOTE, null), "the status page holds no figure; /api/status does");
        assertTrue(HttpAccess.OPEN.allowed("/metrics", REMOTE, null), "no token configured: as before");
    }

    @Test
    void otherAddressesNeedTheRightToken() {
        assertFalse(TOKEN.allowed("/metrics", REMOTE, null));
        assertFalse(TOKEN.allowed("/readyz", REMOTE, "Bearer wrong"));
        assertFalse(TOKEN.allowed("/api/status", REMOTE, null));
        assertTrue(TOKEN.allowed("/api/status", REMOTE, "Bearer scrape-me"));
        assertFalse(TOKEN.allowed("/metrics", REMOTE, "Basic c2NyYXBlLW1l"));
        assertTrue(TOKEN.allowed("/metrics", REMOTE, "Bearer scrape-me"));
        assertTrue(TOKEN.allowed("/readyz", REMOTE, "bearer scrape-me"));
    }

    /** End to end over this machine's own non-loopback address, when it has one. */
    @Test
    void aScrapeFromAnotherAddressIsAnswered401WithoutTheToken() throws Exception {
        Optional<InetAddress> own = OwnAddress.nonLoopbackIpv4();
        assumeTrue(own.isPresent(), "no non-loopback IPv4 address on this machine");
        String host = own.get().getHostAddress();
        try (HttpEndpoints http = new HttpEndpoints("0.0.0.0", 0, Metrics.newRegistry(), () -> Readiness.READY, TOKEN)) {
            int port = http.start();
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> denied = client.send(HttpRequest.newBuilder(
                    URI.create("http://" + host + ":" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, denied.statusCode());
            assertEquals("Bearer", denied.headers().firstValue("www-authenticate").orElseThrow());
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/metrics"))
                    .header("Authorization", "Bearer scrape-me").build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/healthz"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }
}
