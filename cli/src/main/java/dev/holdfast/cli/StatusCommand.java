package dev.holdfast.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code holdfast status}: what a running intake says about itself on {@code /api/status} (the JSON behind its status
 * page), as a short summary for a terminal, like {@code datadog-agent status}. It only reads; a node that cannot be
 * reached, or that answers something other than a status document, is one line naming the address.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print a running intake's status (rates, ack latency, WAL and shedding, forwarder and lag, "
                + "connected agents) from its HTTP port's /api/status; the same figures as its status page at /.")
public final class StatusCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Option(names = "--http", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
            description = "The intake's HTTP port (http.host:http.port; default ${DEFAULT-VALUE})")
    String address;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the HTTP bearer token (auth.httpToken): needed from other addresses than "
                    + "the intake's loopback")
    Path tokenFile;

    @Option(names = "--json", description = "Print the status document as the intake sent it, instead of the summary")
    boolean json;

    @Override
    public Integer call() throws IOException {
        URI uri = uri(address);
        String token = tokenFile == null ? null : Files.readString(tokenFile).strip();
        String body = fetch(uri, token);
        JsonNode status = parse(body);
        System.out.print(json ? body + "\n" : new StatusSummary(Clock.systemUTC()).format(status, address));
        return ExitCodes.OK;
    }

    /** {@code HOST:PORT} (an IPv6 host in brackets) → its /api/status; anything else is a usage error. */
    static URI uri(String address) {
        int colon = address.lastIndexOf(':');
        boolean portOk = colon > 0 && address.substring(colon + 1).matches("[0-9]{1,5}")
                && Integer.parseInt(address.substring(colon + 1)) <= 65535;
        String bad = "--http: expected HOST:PORT (e.g. 127.0.0.1:8080), not '" + address + "'";
        if (!portOk || address.contains("/") || address.contains("@")) {
            throw new OperatorError(ExitCodes.USAGE, bad, null);
        }
        try {
            return URI.create("http://" + address + "/api/status");
        } catch (IllegalArgumentException e) {
            throw new OperatorError(ExitCodes.USAGE, bad, e);
        }
    }

    private String fetch(URI uri, String token) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OperatorError(ExitCodes.FAILED, "interrupted while asking " + address, e);
        } catch (IOException e) {
            throw new OperatorError(ExitCodes.FAILED, "cannot reach the intake's HTTP port at " + address + ": "
                    + why(e), e);
        }
        int code = response.statusCode();
        if (code == 401) {
            throw new OperatorError(ExitCodes.FAILED, address + " asks for its HTTP bearer token (auth.httpToken) "
                    + (token == null ? "from this address; pass it with --token-file" : "and refused the one in "
                    + tokenFile), null);
        }
        if (code == 404) {
            throw new OperatorError(ExitCodes.FAILED, address + " has no /api/status (404): not a Holdfast intake's "
                    + "HTTP port, or an intake older than the status page", null);
        }
        if (code != 200) {
            throw new OperatorError(ExitCodes.FAILED, address + " answered HTTP " + code + ": "
                    + firstLine(response.body()), null);
        }
        return response.body();
    }

    private JsonNode parse(String body) {
        JsonNode status;
        try {
            status = new ObjectMapper().readTree(body);
        } catch (JsonProcessingException e) {
            throw new OperatorError(ExitCodes.FAILED, address + "/api/status is not JSON (" + firstLine(
                    e.getOriginalMessage()) + "): is this a Holdfast intake's HTTP port?", e);
        }
        if (status == null || !status.path("node").isObject() || !status.path("node").path("id").isTextual()) {
            throw new OperatorError(ExitCodes.FAILED, address + "/api/status is JSON but not a Holdfast status "
                    + "document (no node.id): is this a Holdfast intake's HTTP port?", null);
        }
        return status;
    }

    /** The reason in an operator's words; the HTTP client often wraps it, with no message of its own. */
    private static String why(IOException e) {
        if (e instanceof HttpConnectTimeoutException || e instanceof HttpTimeoutException) {
            return "no answer within " + TIMEOUT.toSeconds() + " s";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
        }
        if (e instanceof ConnectException) {
            return "connection refused (is the intake running, and is this its http.port?)";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String firstLine(String s) {
        if (s == null || s.isBlank()) {
            return "(no text)";
        }
        String line = s.strip().lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }
}
