package dev.holdfast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's chromium, headless, driven over the Chrome DevTools Protocol with Java's own WebSocket client: one page,
 * commands sent as {@code {"id", "method", "params"}} and answered by id. No driver binary, no Selenium.
 *
 * <p>Where chromium is missing or cannot start, {@link #start} skips the test on a developer's machine and fails it
 * under CI ({@code CI=true}), where {@code cli/install-chromium.sh} (run by the build) should have installed it.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://[^\\s]+)");

    private final Process process;
    private final Path log;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process, Path log, WebSocket socket) {
        this.process = process;
        this.log = log;
        this.socket = socket;
    }

    /** The binary: $HOLDFAST_CHROMIUM, else chromium on the PATH; null when neither exists. */
    static Path binary() {
        String named = System.getenv("HOLDFAST_CHROMIUM");
        if (named != null && !named.isBlank()) {
            return Path.of(named);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "chromium");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Skipped outside CI, failed under CI: the browser test must not silently stop running there. */
    static void unavailable(String why) {
        String message = "headless chromium unavailable: " + why
                + " (cli/install-chromium.sh installs Debian's chromium, as root; or set HOLDFAST_CHROMIUM)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message);
        }
        Assumptions.abort(message);
    }

    /** Starts chromium with one blank page of this size and connects to that page. */
    static HeadlessChromium start(Path workDir, int width, int height) throws Exception {
        Path bin = binary();
        if (bin == null || !Files.isExecutable(bin)) {
            unavailable(bin == null ? "no chromium on the PATH" : bin + " is not executable");
        }
        Path profile = Files.createDirectories(workDir.resolve("chromium-profile"));
        Path log = workDir.resolve("chromium.log");
        ProcessBuilder builder = new ProcessBuilder(bin.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank")
                .redirectErrorStream(true);
        // its sockets and temporary files under the test's directory, deleted with it, not left in /tmp
        builder.environment().put("TMPDIR", Files.createDirectories(workDir.resolve("chromium-tmp")).toString());
        Process p = builder.start();
        // DevTools says where it listens on stderr; everything it prints also goes to the log for the report
        CompletableFuture<String> endpoint = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 var out = Files.newBufferedWriter(log)) {
                for (String line; (line = r.readLine()) != null; ) {
                    out.write(line);
                    out.newLine();
                    out.flush();
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        endpoint.complete(m.group(1));
                    }
                }
            } catch (IOException e) {
                endpoint.completeExceptionally(e);
            }
            endpoint.completeExceptionally(new IOException("chromium exited before DevTools listened"));
        }, "chromium-output");
        reader.setDaemon(true);
        reader.start();
        String browserUrl;
        try {
            browserUrl = endpoint.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            unavailable("it did not start DevTools within 60 s (" + e.getCause() + "); its output: "
                    + (Files.exists(log) ? Files.readString(log) : ""));
            throw e; // not reached
        }
        URI browser = URI.create(browserUrl);
        HttpClient http = HttpClient.newHttpClient();
        // the page chromium opened for about:blank
        JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://" + browser.getHost() + ":"
                + browser.getPort() + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
        String pageUrl = null;
        for (JsonNode t : targets) {
            if ("page".equals(t.path("type").asText())) {
                pageUrl = t.path("webSocketDebuggerUrl").asText();
                break;
            }
        }
        if (pageUrl == null) {
            p.destroyForcibly();
            throw new AssertionError("chromium has no page target: " + targets);
        }
        Listener listener = new Listener();
        WebSocket socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(pageUrl), listener).get(10, TimeUnit.SECONDS);
        HeadlessChromium chromium = new HeadlessChromium(p, log, socket);
        listener.owner = chromium;
        return chromium;
    }

    /** Sends one command and waits for its answer's {@code result}; a protocol error fails the test. */
    JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        msg.set("params", JSON.valueToTree(params));
        socket.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        JsonNode reply = answer.get(30, TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new AssertionError(method + " failed: " + reply.get("error"));
        }
        return reply.path("result");
    }

    /** Evaluates a JavaScript expression in the page and returns its value (as JSON). */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new AssertionError("page script failed: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** A PNG of the whole page. */
    byte[] screenshot() throws Exception {
        JsonNode r = call("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        return java.util.Base64.getDecoder().decode(r.path("data").asText());
    }

    Path log() {
        return log;
    }

    @Override
    public void close() throws InterruptedException {
        socket.abort();
        // chromium's own children (renderer, GPU and network processes) go with it
        List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        family.forEach(ProcessHandle::destroyForcibly);
    }

    /** Reassembles messages sent in several frames and hands each answer to its caller. */
    private static final class Listener implements WebSocket.Listener {
        volatile HeadlessChromium owner;
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    JsonNode msg = JSON.readTree(text);
                    if (msg.has("id") && owner != null) {
                        CompletableFuture<JsonNode> f = owner.pending.remove(msg.get("id").asInt());
                        if (f != null) {
                            f.complete(msg);
                        }
                    }
                } catch (IOException e) {
                    // an event we cannot read is no answer to anything we asked
                }
            }
            ws.request(1);
            return null;
        }
    }
}
