package dev.holdfast.intake;

import com.google.protobuf.CodedOutputStream;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.Priority;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What one client can make the intake hold, over real gRPC: agent ids in Hello and Resume are bounded like those in
 * batches (and never echoed back), a batch of millions of empty events is refused before it is parsed, and one
 * connection cannot open more than {@link dev.holdfast.intake.grpc.GrpcListener#MAX_CONCURRENT_STREAMS} streams at once.
 */
class BoundedResourcesTest {
    @RegisterExtension
    final IntakeFixture intake = IntakeFixture.forEachTest();

    private IntakeServer start() throws Exception {
        return intake.start();
    }

    private TestClient client(IntakeServer s) {
        return intake.track(new TestClient(s.grpcPort()));
    }

    @Test
    void aHugeAgentIdInHelloOrResumeIsRefusedWithoutBeingEchoedOrRemembered() throws Exception {
        IntakeServer server = start();
        TestClient c = client(server);
        String huge = "a".repeat(1 << 20);
        try (TestClient.Stream s = c.stream()) {
            s.sendRawMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(huge)).build().toByteArray());
            Status st = s.error();
            assertEquals(Status.Code.INVALID_ARGUMENT, st.getCode());
            assertTrue(st.getDescription().contains("limits.maxAgentIdBytes"), st.getDescription());
            assertTrue(st.getDescription().length() < 200, "the id is not echoed: " + st.getDescription().length());
        }
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> c.blocking().resume(Hello.newBuilder().setAgentId(huge).setAcknowledgedThrough(-1L).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().length() < 200);
        // one byte over the limit (256 by default) is refused too; at the limit it is an agent like any other
        String over = "b".repeat(257);
        assertThrows(StatusRuntimeException.class, () -> c.blocking().resume(Hello.newBuilder().setAgentId(over).build()));
        String atLimit = "c".repeat(256);
        try (TestClient.Stream s = c.stream()) {
            assertTrue(s.hello(atLimit).hasWelcome());
            s.send(TestClient.batch(atLimit, 1, 2, Priority.NORMAL, 10));
            assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        }
        assertFalse(server.wal().sequences().contains(huge, 1));
    }

    /** 2,000,000 empty events fit in 4 MB: {@code 0x1A 0x00} each. */
    private static byte[] emptyEvents(int n) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(2 * n + 64);
        CodedOutputStream out = CodedOutputStream.newInstance(buf);
        out.writeString(EventBatch.AGENT_ID_FIELD_NUMBER, "empty");
        out.writeUInt64(EventBatch.BATCH_SEQ_FIELD_NUMBER, 7);
        for (int i = 0; i < n; i++) {
            out.writeByteArray(EventBatch.EVENTS_FIELD_NUMBER, new byte[0]);
        }
        out.flush();
        return buf.toByteArray();
    }

    @Test
    void millionsOfEmptyEventsAreRefusedBeforeTheyAreParsed() throws Exception {
        byte[] bytes = emptyEvents(2_000_000);
        assertTrue(bytes.length <= 4 << 20, "fits the default batch limit: " + bytes.length);
        BatchValidator validator = new BatchValidator(new BatchValidator.Limits(4 << 20, 10_000, 256));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        BatchValidator.Result r = validator.validate(bytes, 1, null);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        BatchValidator.Invalid invalid = assertInstanceOf(BatchValidator.Invalid.class, r);
        assertEquals(7, invalid.batchSeq());
        assertTrue(invalid.message().contains("batch has 2000000 events, over the limit of 10000"), invalid.message());
        // materialising them all (EventBatch.parseFrom) took ~200 MB of objects; counting the tags takes next to nothing
        assertTrue(allocated < 4 << 20, "allocated " + allocated + " bytes to refuse it");
        // a batch at the limit is still walked and accepted
        assertInstanceOf(BatchValidator.Valid.class, validator.validate(emptyEvents(10_000), 1, null));
    }

    @Test
    void aConnectionGetsAtMostAHundredStreamsAtOnce() throws Exception {
        IntakeServer server = start();
        TestClient c = client(server);
        int n = dev.holdfast.intake.grpc.GrpcListener.MAX_CONCURRENT_STREAMS + 1;
        List<TestClient.Stream> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TestClient.Stream s = c.stream();
            streams.add(s);
            s.sendRawMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("s" + i)).build()
                    .toByteArray());
        }
        int welcomed = 0;
        List<TestClient.Stream> waiting = new ArrayList<>();
        for (TestClient.Stream s : streams) {
            Object o = s.received.poll(welcomed < n - 1 ? 10 : 3, TimeUnit.SECONDS);
            if (o instanceof IntakeMessage m && m.hasWelcome()) {
                welcomed++;
            } else {
                assertNull(o, "a stream over the limit waits; it is not failed");
                waiting.add(s);
            }
        }
        assertEquals(dev.holdfast.intake.grpc.GrpcListener.MAX_CONCURRENT_STREAMS, welcomed, "streams served at once on one connection");
        assertEquals(1, waiting.size());
        // one ends: the waiting one is served
        TestClient.Stream first = streams.stream().filter(s -> !waiting.contains(s)).findFirst().orElseThrow();
        first.close();
        Object o = waiting.get(0).received.poll(10, TimeUnit.SECONDS);
        assertTrue(o instanceof IntakeMessage m && m.hasWelcome(), "served once a stream ended: " + o);
        for (TestClient.Stream s : streams) {
            s.close();
        }
    }

    @Test
    void aClientThatNeverReadsItsAcksIsHeldBackInsteadOfQueuedFor() throws Exception {
        IntakeServer server = start();
        // a 64 KiB HTTP/2 window for what the client receives: its unread acks fill it after ~1,600, and from then
        // on only the intake could hold more (without flow control it did: 2.8 GB in the measurement)
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext().flowControlWindow(65_535).build();
        intake.track(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        java.util.concurrent.atomic.AtomicReference<io.grpc.stub.ClientCallStreamObserver<byte[]>> call =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger acks = new java.util.concurrent.atomic.AtomicInteger();
        io.grpc.MethodDescriptor<byte[], IntakeMessage> m = dev.holdfast.protocol.v1.IntakeServiceGrpc.getStreamMethod()
                .toBuilder(new ByteArrayMarshallerForTest(), io.grpc.protobuf.ProtoUtils.marshaller(
                        IntakeMessage.getDefaultInstance())).build();
        io.grpc.stub.ClientCalls.asyncBidiStreamingCall(channel.newCall(m, io.grpc.CallOptions.DEFAULT),
                new io.grpc.stub.ClientResponseObserver<byte[], IntakeMessage>() {
                    @Override
                    public void beforeStart(io.grpc.stub.ClientCallStreamObserver<byte[]> requests) {
                        requests.disableAutoRequestWithInitial(0); // reads nothing until told to
                        call.set(requests);
                    }

                    @Override
                    public void onNext(IntakeMessage value) {
                        if (value.hasAck()) acks.incrementAndGet();
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        io.grpc.stub.ClientCallStreamObserver<byte[]> requests = call.get();
        requests.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId("deaf")).build().toByteArray());
        int batches = 20_000;
        for (int seq = 1; seq <= batches; seq++) {
            // sent regardless of isReady: the client buffers what the intake does not take
            requests.onNext(AgentMessage.newBuilder().setBatch(TestClient.batch("deaf", seq, 1, Priority.NORMAL, 10))
                    .build().toByteArray());
        }
        // Wait until it stops taking (unchanged for 2 s): on a loaded machine that takes longer than on an idle one,
        // so no fixed wait. An intake queueing acks without bound stops only when it has taken every batch.
        long later = -1;
        long unchangedSince = System.nanoTime();
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - unchangedSince < TimeUnit.SECONDS.toNanos(2)) {
            long now = held(server, batches);
            if (now != later) {
                later = now;
                unchangedSince = System.nanoTime();
            }
            assertTrue(System.nanoTime() < giveUp, "the intake kept taking batches for 60 s: " + later);
            Thread.sleep(250);
        }
        System.out.printf("a client reading no acks: the intake took %d of %d batches and no more for 2 s%n",
                later, batches);
        // held back: what it took was bounded by the acks the client's window and a 32 KiB send buffer hold
        assertTrue(later < batches, "the intake took all " + batches + " batches: it queued their acks without bound");
        requests.request(Integer.MAX_VALUE); // now it reads: everything is taken and acknowledged
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.get() < batches && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(batches, acks.get(), "every batch acknowledged once the client reads");
        requests.onCompleted();
    }

    private static long held(IntakeServer server, int batches) {
        return java.util.stream.LongStream.rangeClosed(1, batches)
                .filter(seq -> server.wal().sequences().contains("deaf", seq)).count();
    }

    private static final class ByteArrayMarshallerForTest implements io.grpc.MethodDescriptor.Marshaller<byte[]> {
        @Override
        public java.io.InputStream stream(byte[] value) {
            return new java.io.ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(java.io.InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
