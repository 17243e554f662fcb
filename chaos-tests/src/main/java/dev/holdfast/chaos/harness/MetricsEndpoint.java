package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The HTTP side of a Holdfast process on loopback (intake or shipper): health, readiness and Prometheus metrics. */
public final class MetricsEndpoint {
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();

    public MetricsEndpoint(int port) {
        this.port = port;
    }

    public int port() {
        return port;
    }

    /** HTTP status of a GET, or -1 when nothing answers. */
    public int status(String path) throws InterruptedException {
        try {
            return http.send(request(path), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Status and body of a GET ("-1 " and the error when nothing answers), e.g. "503 {...}". */
    public String get(String path) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(request(path), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "-1 " + e;
        }
    }

    /** The /metrics text, or "" when nothing answers (yet). */
    public String scrape() throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(request("/metrics"), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Sum over every label set of a metric family (exact name), or NaN when unreachable or absent. */
    public double metric(String name) throws InterruptedException {
        double total = 0;
        boolean seen = false;
        for (String line : scrape().split("\n")) {
            if (line.startsWith(name) && line.length() > name.length()
                    && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '{')) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                seen = true;
            }
        }
        return seen ? total : Double.NaN;
    }

    private HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2))
                .build();
    }
}
