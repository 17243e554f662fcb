package dev.holdfast.chaos;

import com.google.protobuf.CodedOutputStream;
import dev.holdfast.chaos.harness.ChaosHome;
import dev.holdfast.chaos.harness.IntakeNode;
import dev.holdfast.chaos.harness.Rss;
import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.testkit.StallingMessage;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The abuse suite: hostile clients against a running intake in its own JVM, started with the launcher's intake flags
 * (heap and direct memory capped) and a file-descriptor limit of {@value #FD_LIMIT}. Each case runs while a canary
 * agent sends a small batch every 20 ms, and asserts that the intake stays ready, the canary is served without a
 * failure and with its p99 under 2 s, and the intake's RSS stays under the bound its configuration sets
 * ({@link #rssBound}). Figures per case go to target/abuse-report.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AbuseSuiteIT {
    static final int FD_LIMIT = 1024;
    private static final long MIB = 1 << 20;
    /** The default {@code wal.blockSize}, set explicitly so that the RSS bound and the intake agree on it. */
    static final long WAL_BLOCK = 64 * MIB;
    /**
     * The JVM's own memory beside heap and direct buffers, measured at the suite's RSS peaks with NMT and smaps
     * (2026-12-02): G1's structures for a 512 MiB heap 53 MiB, class-data archives 40, libjvm 16, code 16, metaspace
     * 11, compiler arenas up to 35, malloc'd memory 15-45, threads 3.
     */
    static final long JVM_OWN = 192 * MIB;
    /** The default {@code limits.connections.partialMessageBytesTotal}. */
    static final long PARTIAL_TOTAL = 96 * MIB;

    private IntakeNode intake;
    private List<String> jvm;
    private long rssBound;
    private Canary canary;
    private final List<String> report = new ArrayList<>();

    @BeforeAll
    void startIntake() throws Exception {
        Path work = Files.createTempDirectory(Files.createDirectories(Path.of("target", "abuse-work")).toAbsolutePath(),
                "run");
        ChaosHome home = ChaosHome.locate();
        jvm = home.intakeJvmFlags(); // what `holdfast intake` runs with
        rssBound = rssBound(jvm);
        intake = new IntakeNode(home, "abused", work, work.resolve("data"), "none", "unused",
                Map.of("minFreeBytes", "64MiB", "blockSize", WAL_BLOCK / MIB + "MiB"), "written");
        intake.start(jvm, List.of("prlimit", "--nofile=" + FD_LIMIT, "--"));
        canary = new Canary(intake.grpcPort());
        Thread.sleep(1_000); // a baseline for the canary before any attack
        report.add("| case | RSS before | RSS peak | RSS after | canary sent | canary failed | canary p50 | canary p99 "
                + "| canary max | attacker's figures |");
        report.add("|---|---|---|---|---|---|---|---|---|---|");
    }

    @AfterAll
    void stop() throws Exception {
        if (canary != null) canary.close();
        if (intake != null) intake.close();
        Files.writeString(Path.of("target", "abuse-report.md"), "# Abuse suite\n\nIntake JVM flags " + jvm
                + ", fd limit " + FD_LIMIT + ", RSS bound " + rssBound / MIB + " MiB.\n\n" + String.join("\n", report)
                + "\n");
        System.out.println(String.join("\n", report));
    }

    /** Runs one attack for its duration under watch, then checks and reports. */
    private void underAttack(String name, Duration length, Attack attack) throws Exception {
        long before = Rss.now(intake.pid());
        canary.mark();
        AtomicInteger notReady = new AtomicInteger();
        String figures;
        try (Rss rss = new Rss(intake.pid())) {
            AtomicBoolean done = new AtomicBoolean();
            Thread watcher = new Thread(() -> {
                while (!done.get()) {
                    try {
                        if (intake.status("/readyz") != 200) notReady.incrementAndGet();
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            watcher.start();
            try {
                figures = attack.run(length);
            } finally {
                done.set(true);
                watcher.join();
            }
            Thread.sleep(1_000); // what the attack left behind
            long peak = rss.peak();
            long after = rss.current();
            Canary.Stats s = canary.stats();
            report.add(String.format("| %s | %d MiB | %d MiB | %d MiB | %d | %d | %d ms | %d ms | %d ms | %s |", name,
                    before / MIB, peak / MIB, after / MIB, s.sent(), s.failed(), s.p50(), s.p99(), s.max(), figures));
            System.out.println(report.get(report.size() - 1));
            assertTrue(intake.alive(), name + ": the intake died; its log: " + intake.log());
            assertEquals(0, notReady.get(), name + ": /readyz was not 200 during the attack");
            assertEquals(0, s.failed(), name + ": the canary's batches failed: " + s.errors());
            assertTrue(s.sent() > 10, name + ": the canary was barely served: " + s);
            assertTrue(s.p99() < 2_000, name + ": canary p99 " + s.p99() + " ms");
            assertTrue(peak < rssBound, name + ": RSS peaked at " + peak / MIB + " MiB, over the bound of "
                    + rssBound / MIB + " MiB");
        }
    }

    /**
     * The most the intake may hold whatever clients do, from what it runs with: its heap and direct-memory caps (the
     * launcher's flags), the WAL's mapped window and the JVM's own memory ({@link #JVM_OWN}). Chronicle maps the
     * queue file a block at a time, with a quarter of a block's overlap, and a block stays mapped while the writer or
     * a reader still holds it: up to three blocks resident (148-180 MiB measured with 64 MiB blocks). Nothing a
     * client sends is outside these parts; an attack that grew anything else would cross it.
     */
    static long rssBound(List<String> jvmFlags) {
        long heap = -1;
        long direct = -1;
        for (String f : jvmFlags) {
            if (f.startsWith("-Xmx")) heap = jvmSize(f.substring(4));
            if (f.startsWith("-XX:MaxDirectMemorySize=")) direct = jvmSize(f.substring(f.indexOf('=') + 1));
        }
        assertTrue(heap > 0 && direct > 0, "the intake's flags must cap heap and direct memory: " + jvmFlags);
        return heap + direct + 3 * WAL_BLOCK + JVM_OWN;
    }

    /** A JVM size argument: 512m, 2g, 65536k or bytes. */
    static long jvmSize(String s) {
        char unit = Character.toLowerCase(s.charAt(s.length() - 1));
        int shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : 0;
        return Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1)) << shift;
    }

    @FunctionalInterface
    interface Attack {
        /** Attacks for {@code length}, cleans up, returns the attacker's figures for the report. */
        String run(Duration length) throws Exception;
    }

    @Test
    @Order(1)
    void clientsThatNeverReadTheirAcks() throws Exception {
        underAttack("20 streams that never read their acks", Duration.ofSeconds(8), length -> {
            List<ManagedChannel> channels = new ArrayList<>();
            AtomicLong sent = new AtomicLong();
            byte[] batchPad = new byte[32 << 10];
            try {
                for (int c = 0; c < 20; c++) {
                    ManagedChannel ch = channel(intake.grpcPort());
                    channels.add(ch);
                    String agent = "never-reads-" + c;
                    java.util.concurrent.atomic.AtomicReference<ClientCallStreamObserver<byte[]>> holder =
                            new java.util.concurrent.atomic.AtomicReference<>();
                    ClientCalls.asyncBidiStreamingCall(ch.newCall(RAW_STREAM, CallOptions.DEFAULT),
                            new ClientResponseObserver<byte[], IntakeMessage>() {
                                @Override
                                public void beforeStart(ClientCallStreamObserver<byte[]> requests) {
                                    requests.disableAutoRequestWithInitial(0); // never reads a single ack
                                    holder.set(requests);
                                }

                                @Override public void onNext(IntakeMessage value) { }
                                @Override public void onError(Throwable t) { }
                                @Override public void onCompleted() { }
                            });
                    holder.get().onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agent)).build()
                            .toByteArray());
                    new Thread(() -> {
                        long seq = 0;
                        long end = System.nanoTime() + length.toNanos();
                        while (System.nanoTime() < end) {
                            if (holder.get().isReady()) {
                                holder.get().onNext(AgentMessage.newBuilder().setBatch(batch(agent, ++seq, 1, batchPad.length))
                                        .build().toByteArray());
                                sent.incrementAndGet();
                            } else {
                                sleep(5);
                            }
                        }
                    }).start();
                }
                Thread.sleep(length.toMillis());
            } finally {
                channels.forEach(ManagedChannel::shutdownNow);
            }
            return sent.get() + " batches sent, none of their acks read";
        });
    }

    @Test
    @Order(2)
    void tenThousandStreamsOnOneConnection() throws Exception {
        underAttack("10,000 streams on one connection", Duration.ofSeconds(6), length -> {
            ManagedChannel ch = channel(intake.grpcPort());
            AtomicInteger welcomed = new AtomicInteger();
            try {
                for (int i = 0; i < 10_000; i++) {
                    StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(
                            ch.newCall(RAW_STREAM, CallOptions.DEFAULT), new StreamObserver<>() {
                                @Override public void onNext(IntakeMessage m) { if (m.hasWelcome()) welcomed.incrementAndGet(); }
                                @Override public void onError(Throwable t) { }
                                @Override public void onCompleted() { }
                            });
                    out.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("many-" + i)).build()
                            .toByteArray());
                }
                Thread.sleep(length.toMillis());
            } finally {
                ch.shutdownNow();
            }
            assertTrue(welcomed.get() <= 100, "at most 100 concurrent streams per connection, got " + welcomed.get());
            return "10,000 opened, " + welcomed.get() + " served at once (the rest wait in the client)";
        });
    }

    @Test
    @Order(3)
    void almostCompleteMessagesOnManyConnections() throws Exception {
        // 2 x limits.maxBatchBytes + 1 MiB is the gRPC frame limit; each message stops one byte short of it
        int size = (int) (9 * MIB) - 1;
        // The attacker runs in its own JVM: 100 client transports holding 900 MB would otherwise share this JVM's
        // allocator and threads with the canary, and the canary would measure the test instead of the intake
        underAttack("100 connections each holding a 9 MiB message minus one byte", Duration.ofSeconds(10), length -> {
            // at the lowest CPU priority: on a network the attacker has a machine of its own; on these two cores,
            // pushing 900 MB through gRPC would otherwise take the CPU from the intake and the canary alike
            List<String> cmd = new ArrayList<>(List.of("nice", "-n", "19",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:MaxDirectMemorySize=2g", "-cp", System.getProperty("java.class.path"),
                    PartialMessages.class.getName(), Integer.toString(intake.grpcPort()), "100",
                    Integer.toString(size), Long.toString(length.toSeconds())));
            double perConnectionBefore = closedFor("partial_bytes");
            double totalBefore = closedFor("partial_bytes_total");
            // what the intake says it holds, sampled while the attack runs: the budget must bound it, not just count
            AtomicLong mostHeld = new AtomicLong();
            AtomicBoolean attacking = new AtomicBoolean(true);
            Thread heldSampler = new Thread(() -> {
                while (attacking.get()) {
                    try {
                        double held = intake.metric("holdfast_partial_message_bytes");
                        if (!Double.isNaN(held)) mostHeld.accumulateAndGet((long) held, Math::max);
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            heldSampler.start();
            Process attacker = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try {
                out = new String(attacker.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                assertTrue(attacker.waitFor(30, TimeUnit.SECONDS), "the attacker process did not end");
            } finally {
                attacking.set(false);
                heldSampler.join();
            }
            assertEquals(0, attacker.exitValue(), out);
            // over the total by at most what other connections read while the largest is being closed: one message
            assertTrue(mostHeld.get() <= PARTIAL_TOTAL + size, "the intake held " + mostHeld.get() / MIB
                    + " MiB of unfinished messages, over its budget of " + PARTIAL_TOTAL / MIB + " MiB and one message");
            long perConnection = Math.round(closedFor("partial_bytes") - perConnectionBefore);
            long total = Math.round(closedFor("partial_bytes_total") - totalBefore);
            // the messages really reached the intake: it had to close connections for them
            assertTrue(total > 0, "no connection was closed for limits.connections.partialMessageBytesTotal: " + out);
            return out + "; the intake closed " + total + " connections for the total budget ("
                    + PARTIAL_TOTAL / MIB + " MiB), " + perConnection + " for their own; it held at most " + mostHeld.get() / MIB + " MiB of them";
        });
    }

    private double closedFor(String reason) throws InterruptedException {
        double v = intake.metric("holdfast_connections_refused_total{port=\"grpc\",reason=\"" + reason + "\"}");
        return Double.isNaN(v) ? 0 : v;
    }

    /** The attacker of {@link #almostCompleteMessagesOnManyConnections}, in its own JVM: PORT CONNECTIONS SIZE SECONDS. */
    public static final class PartialMessages {
        public static void main(String[] args) throws Exception {
            int port = Integer.parseInt(args[0]);
            int connections = Integer.parseInt(args[1]);
            int size = Integer.parseInt(args[2]);
            long seconds = Long.parseLong(args[3]);
            CountDownLatch release = new CountDownLatch(1);
            AtomicLong streamed = new AtomicLong();
            AtomicInteger failed = new AtomicInteger();
            List<ManagedChannel> channels = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                ManagedChannel ch = channel(port);
                channels.add(ch);
                StallingMessage.awaitReady(ch, Duration.ofSeconds(10));
                StallingMessage.flushEvery(Duration.ofMillis(50), () -> IntakeServiceGrpc.newBlockingStub(ch)
                        .withDeadlineAfter(2, TimeUnit.SECONDS).resume(Hello.newBuilder().setAgentId("flusher").build()),
                        release);
                Thread t = new Thread(() -> {
                    try {
                        ClientCalls.blockingUnaryCall(ch, RAW_SEND_STREAM, CallOptions.DEFAULT
                                .withDeadlineAfter(seconds + 5, TimeUnit.SECONDS), new StallingMessage(size, release, streamed));
                    } catch (RuntimeException e) {
                        failed.incrementAndGet();
                    }
                });
                t.setDaemon(true);
                t.start();
            }
            Thread.sleep(seconds * 1000);
            System.out.println(streamed.get() / MIB + " MiB written by " + connections + " calls, "
                    + failed.get() + " failed before the end");
            System.out.flush();
            Runtime.getRuntime().halt(0); // the stalled calls end with the process, as an attacker's would
        }
    }

    @Test
    @Order(4)
    void hugeAgentIdsAndBatchesOfMillionsOfEmptyEvents() throws Exception {
        underAttack("1 MiB agent ids; 4 MB batches of 2 million empty events", Duration.ofSeconds(6), length -> {
            ManagedChannel ch = channel(intake.grpcPort());
            int invalid = 0;
            int other = 0;
            try {
                byte[] empties = emptyEvents("empties", 2_000_000);
                String huge = "h".repeat(1 << 20);
                long end = System.nanoTime() + length.toNanos();
                while (System.nanoTime() < end) {
                    try {
                        ClientCalls.blockingUnaryCall(ch, RAW_SEND, CallOptions.DEFAULT.withDeadlineAfter(10,
                                TimeUnit.SECONDS), empties);
                        other++;
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() == io.grpc.Status.Code.INVALID_ARGUMENT) invalid++; else other++;
                    }
                    try {
                        IntakeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .resume(Hello.newBuilder().setAgentId(huge).build());
                        other++;
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() == io.grpc.Status.Code.INVALID_ARGUMENT) invalid++; else other++;
                    }
                }
            } finally {
                ch.shutdownNow();
            }
            assertEquals(0, other, "every such request is refused as invalid");
            return invalid + " refused as INVALID_ARGUMENT";
        });
    }

    @Test
    @Order(5)
    void gzipBombs() throws Exception {
        // gzip-compressed holdfast.v1 messages (64 KiB inflating to 64 MiB): agents never compress, so the intake
        // accepts no compression there and refuses them unread, UNIMPLEMENTED, without inflating a byte
        underAttack("gzip bombs: 64 KiB inflating to 64 MiB", Duration.ofSeconds(6), length -> {
            ManagedChannel ch = channel(intake.grpcPort());
            int refused = 0;
            int other = 0;
            try {
                byte[] zeros = new byte[64 << 20];
                long end = System.nanoTime() + length.toNanos();
                while (System.nanoTime() < end) {
                    try {
                        ClientCalls.blockingUnaryCall(ch, RAW_SEND, CallOptions.DEFAULT.withCompression("gzip")
                                .withDeadlineAfter(10, TimeUnit.SECONDS), zeros);
                        other++;
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() == io.grpc.Status.Code.UNIMPLEMENTED) refused++; else other++;
                    }
                }
            } finally {
                ch.shutdownNow();
            }
            assertEquals(0, other, "every compressed message is refused unread");
            assertTrue(refused > 0);
            return refused + " refused as UNIMPLEMENTED (no decompressor: nothing inflated)";
        });
    }

    @Test
    @Order(6)
    void slowlorisOnTheHttpPort() throws Exception {
        underAttack("300 HTTP requests trickled a byte a second", Duration.ofSeconds(13), length -> {
            List<Socket> sockets = new ArrayList<>();
            int cutOff = 0;
            try {
                for (int i = 0; i < 300; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress("127.0.0.3", 0));
                    s.connect(new InetSocketAddress("127.0.0.1", intake.httpPort()), 2_000);
                    s.getOutputStream().write("GET /metrics HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                    sockets.add(s);
                }
                long end = System.nanoTime() + length.toNanos();
                while (System.nanoTime() < end) {
                    for (Socket s : sockets) {
                        try {
                            s.getOutputStream().write('X');
                        } catch (IOException e) {
                            // cut off by the request deadline
                        }
                    }
                    Thread.sleep(1_000);
                }
                for (Socket s : sockets) {
                    s.setSoTimeout(100);
                    try {
                        if (s.getInputStream().read() < 0) cutOff++;
                    } catch (IOException e) {
                        cutOff++;
                    }
                }
            } finally {
                for (Socket s : sockets) s.close();
            }
            assertEquals(300, cutOff, "every trickled request is cut off by limits.connections.requestTimeout");
            return "300 opened, " + cutOff + " cut off";
        });
    }

    @Test
    @Order(7)
    void aConnectionFloodUpToTheDescriptorLimit() throws Exception {
        underAttack("connection flood against a " + FD_LIMIT + "-descriptor limit", Duration.ofSeconds(5), length -> {
            List<Socket> sockets = new ArrayList<>();
            int held = 0;
            try {
                for (int i = 0; i < FD_LIMIT + 200; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress("127.0.1." + (1 + i / 250), 0)); // under maxPerAddress
                    s.connect(new InetSocketAddress("127.0.0.1", intake.grpcPort()), 2_000);
                    sockets.add(s);
                }
                Thread.sleep(length.toMillis());
                for (Socket s : sockets) {
                    if (stillOpen(s)) {
                        held++;
                    }
                }
                assertEquals(200, intake.status("/healthz"), "/healthz answers with the descriptors exhausted by gRPC");
            } finally {
                for (Socket s : sockets) s.close();
            }
            assertTrue(held < FD_LIMIT, "connections the intake kept: " + held);
            return (FD_LIMIT + 200) + " opened, " + held + " kept by the intake";
        });
    }

    // --- clients

    private static final ByteArrayMarshaller BYTES = new ByteArrayMarshaller();
    private static final MethodDescriptor<byte[], IntakeMessage> RAW_STREAM = IntakeServiceGrpc.getStreamMethod()
            .toBuilder(BYTES, ProtoUtils.marshaller(IntakeMessage.getDefaultInstance())).build();
    private static final MethodDescriptor<byte[], byte[]> RAW_SEND = IntakeServiceGrpc.getSendMethod()
            .toBuilder(BYTES, BYTES).build();
    private static final MethodDescriptor<InputStream, byte[]> RAW_SEND_STREAM = IntakeServiceGrpc.getSendMethod()
            .toBuilder(StallingMessage.marshaller(), BYTES).build();

    private static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                .maxInboundMessageSize(16 << 20).build();
    }

    static EventBatch batch(String agent, long seq, int events, int padBytes) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(seq);
        for (int i = 0; i < events; i++) {
            b.addEvents(Event.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i).setPriority(Priority.NORMAL)
                    .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/abuse/" + seq)
                            .setPid(1).setComm("canary"))
                    .putAttributes("pad", "x".repeat(padBytes)));
        }
        return b.build();
    }

    /** A batch of {@code n} empty events (field 3, length 0), written by hand: protobuf would not build it cheaply. */
    private static byte[] emptyEvents(String agent, int n) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(n * 2 + 64);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeString(1, agent);
        out.writeUInt64(2, 1);
        for (int i = 0; i < n; i++) {
            out.writeTag(3, 2);
            out.writeUInt32NoTag(0);
        }
        out.flush();
        return bytes.toByteArray();
    }

    /** Open: reads time out (after whatever the server sent, e.g. its HTTP/2 SETTINGS); closed: EOF or reset. */
    private static boolean stillOpen(Socket s) throws IOException {
        s.setSoTimeout(20);
        try {
            while (s.getInputStream().read() >= 0) {
                // the server's preface: read on
            }
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A request body of a known length that stops one byte short until released: gRPC writes the length prefix, then
     * drains the body into its framer in one write (cheap for the attacker, whose CPU the canary shares here), then the
     * body blocks where its last byte would be.
     */
    /** A well-behaved agent: one small batch every 20 ms over its own connection, latency of each recorded. */
    static final class Canary implements AutoCloseable {
        record Stats(int sent, int failed, long p50, long p99, long max, List<String> errors) {
        }

        private final ManagedChannel channel;
        private final EventLoopGroup loop;
        private final Thread thread;
        private final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
        private volatile boolean stopped;
        /** Calls started before this belong to the previous case: not counted in this one. */
        private volatile long markNanos = Long.MIN_VALUE;

        Canary(int port) {
            // its own I/O thread: the attackers live in this JVM too, and must not slow the canary's side
            loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().eventLoopGroup(loop)
                    .channelType(NioSocketChannel.class).directExecutor().build();
            thread = new Thread(() -> {
                long seq = 0;
                IntakeServiceGrpc.IntakeServiceBlockingStub stub = IntakeServiceGrpc.newBlockingStub(channel);
                while (!stopped) {
                    EventBatch b = batch("canary", ++seq, 5, 100);
                    long t0 = System.nanoTime();
                    String error = null;
                    try {
                        BatchAck ack = stub.withDeadlineAfter(5, TimeUnit.SECONDS).send(b);
                        if (ack.getStatus() != BatchAck.Status.PERSISTED) error = ack.getStatus() + " " + ack.getMessage();
                    } catch (StatusRuntimeException e) {
                        error = stopped ? null : e.getStatus().toString();
                    }
                    if (t0 - markNanos >= 0) {
                        latencies.add((System.nanoTime() - t0) / 1_000_000);
                        if (error != null) errors.add(error);
                    }
                    AbuseSuiteIT.sleep(20);
                }
            }, "canary");
            thread.setDaemon(true);
            thread.start();
        }

        void mark() {
            markNanos = System.nanoTime();
            latencies.clear();
            errors.clear();
        }

        Stats stats() {
            List<Long> l;
            synchronized (latencies) {
                l = new ArrayList<>(latencies);
            }
            Collections.sort(l);
            long p50 = l.isEmpty() ? 0 : l.get(l.size() / 2);
            long p99 = l.isEmpty() ? 0 : l.get(Math.min(l.size() - 1, (int) Math.ceil(l.size() * 0.99) - 1));
            long max = l.isEmpty() ? 0 : l.get(l.size() - 1);
            List<String> e;
            synchronized (errors) {
                e = new ArrayList<>(errors.subList(0, Math.min(5, errors.size())));
            }
            return new Stats(l.size(), errors.size(), p50, p99, max, e);
        }

        @Override
        public void close() throws InterruptedException {
            stopped = true;
            thread.join(10_000);
            channel.shutdownNow();
            loop.shutdownGracefully();
        }
    }
}
