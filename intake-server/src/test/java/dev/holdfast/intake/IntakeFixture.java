package dev.holdfast.intake;

import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * One intake on loopback over a test's data directory, restartable, with what its WAL holds.
 *
 * <p>Made by {@link #startedForEachTest()} and held in a {@code @RegisterExtension} field, it starts before each test
 * over a directory of its own and is closed, and the directory deleted, after it ({@link #forEachTest()}: the test
 * starts it).
 */
final class IntakeFixture implements AutoCloseable, BeforeEachCallback, AfterEachCallback {
    private final Path data;
    private final List<AutoCloseable> open = new ArrayList<>();
    private IntakeServer server;
    private final IntakeConfig.Auth auth;

    private boolean startBeforeEach;

    static IntakeFixture startedForEachTest() {
        IntakeFixture f = forEachTest();
        f.startBeforeEach = true;
        return f;
    }

    /** As {@link #startedForEachTest()}, but each test starts it itself (with a config of its own, say). */
    static IntakeFixture forEachTest() {
        try {
            return new IntakeFixture(Files.createTempDirectory("intake-fixture"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (startBeforeEach) {
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        close();
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    IntakeFixture(Path data) {
        this(data, IntakeConfig.Auth.NONE);
    }

    /** With an auth: section (its TLS, if any, is given to {@link #start(IntakeConfig.Tls)}). */
    IntakeFixture(Path data, IntakeConfig.Auth auth) {
        this.data = data;
        this.auth = auth;
    }

    IntakeServer start() throws Exception {
        return start(IntakeConfig.Tls.OFF);
    }

    /** With this TLS configuration on the loopback listeners. */
    IntakeServer start(IntakeConfig.Tls tls) throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        return start(new IntakeConfig("test-node", data, Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder(), tls, auth).withoutForwarder());
    }

    /** With a configuration of the test's own (its data directory should be this fixture's). */
    IntakeServer start(IntakeConfig cfg) throws Exception {
        server = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
        open.add(server);
        return server;
    }

    /**
     * Stops the intake and starts it again on the same data directory. Clients go first: their open streams would
     * hold the intake's graceful shutdown for its whole grace period.
     */
    IntakeServer restart() throws Exception {
        stop();
        return start();
    }

    /** Stops the intake (clients first); {@link #start()} brings it back on the same directory. */
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
        open.clear();
    }

    Path dataDir() {
        return data;
    }

    Path walDir() {
        return IntakeServer.walDir(data);
    }

    TestClient client() {
        return track(new TestClient(server.grpcPort()));
    }

    /** A client over {@code channel}, closed with the fixture. */
    TestClient client(io.grpc.ManagedChannel channel) {
        return track(new TestClient(channel));
    }

    /** Closed with the fixture (before what was tracked earlier). */
    <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    IntakeServer server() {
        return server;
    }

    /**
     * Every valid record in the WAL, as "agent#unsigned seq" → bytes; damage the walk reports is left out. Fails on a
     * batch written twice.
     */
    Map<String, byte[]> walContents() throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (WalInspector w = WalInspector.open(IntakeServer.walDir(data))) {
            w.forEach(null, null, e -> {
                if (!(e instanceof WalReader.Valid v)) {
                    return;
                }
                WalRecord r = v.record();
                byte[] prev = out.put(key(r.header().agentId(), r.header().batchSeq()), r.payload());
                assertNull(prev, "written twice: " + r.header());
            });
        }
        return out;
    }

    static String key(String agent, long seq) {
        return agent + "#" + Long.toUnsignedString(seq);
    }

    String metrics() throws Exception {
        return http("/metrics").body();
    }

    HttpResponse<String> http(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }
}
