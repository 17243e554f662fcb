package dev.holdfast.intake;

import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Priority;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real gRPC client on loopback, as an agent would use it. */
final class TestClient implements AutoCloseable {
    private static final ByteArrayMarshaller RAW = new ByteArrayMarshaller();
    final ManagedChannel channel;

    TestClient(int port) {
        this(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
    }

    /** Over a channel built elsewhere (TLS, another authority). */
    TestClient(ManagedChannel channel) {
        this.channel = channel;
    }

    /**
     * A batch whose bytes depend only on the arguments, so that building it again gives what a real agent resends:
     * the very same bytes (the intake refuses a seq reused with other content).
     */
    static EventBatch batch(String agent, long seq, int events, Priority priority, int padBytes) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(seq);
        for (int i = 0; i < events; i++) {
            b.addEvents(Event.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i).setPriority(priority)
                    .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY)
                            .setPath("/var/log/app/" + Long.toUnsignedString(seq) + "-" + i)
                            .setPid(42).setComm("test"))
                    .putAttributes("pad", "x".repeat(padBytes)));
        }
        return b.build();
    }

    IntakeServiceGrpc.IntakeServiceBlockingStub blocking() {
        return IntakeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    Stream stream() {
        return new Stream();
    }

    /** Sends arbitrary bytes as a unary Send request, to prove malformed input is answered, not fatal. */
    byte[] sendRaw(byte[] request) {
        MethodDescriptor<byte[], byte[]> m = IntakeServiceGrpc.getSendMethod().toBuilder(RAW, RAW).build();
        return ClientCalls.blockingUnaryCall(channel, m, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
    }

    final class Stream implements AutoCloseable {
        final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final StreamObserver<byte[]> out;

        Stream() {
            MethodDescriptor<byte[], IntakeMessage> m = IntakeServiceGrpc.getStreamMethod().toBuilder(RAW,
                    io.grpc.protobuf.ProtoUtils.marshaller(IntakeMessage.getDefaultInstance())).build();
            out = ClientCalls.asyncBidiStreamingCall(channel.newCall(m, io.grpc.CallOptions.DEFAULT), new StreamObserver<>() {
                @Override
                public void onNext(IntakeMessage value) {
                    received.add(value);
                }

                @Override
                public void onError(Throwable t) {
                    received.add(t);
                }

                @Override
                public void onCompleted() {
                    received.add("completed");
                }
            });
        }

        IntakeMessage hello(String agent) throws InterruptedException {
            return hello(agent, 0);
        }

        /** A Hello claiming every seq up to {@code acknowledgedThrough} is durable somewhere (0 = no claim). */
        IntakeMessage hello(String agent, long acknowledgedThrough) throws InterruptedException {
            out.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agent)
                    .setAcknowledgedThrough(acknowledgedThrough)).build().toByteArray());
            return next();
        }

        void send(EventBatch batch) {
            out.onNext(AgentMessage.newBuilder().setBatch(batch).build().toByteArray());
        }

        /** An AgentMessage whose batch field (2, length-delimited) holds these bytes, however broken. */
        void sendRawBatch(byte[] bytes) {
            try {
                java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
                com.google.protobuf.CodedOutputStream cos = com.google.protobuf.CodedOutputStream.newInstance(buf);
                cos.writeByteArray(AgentMessage.BATCH_FIELD_NUMBER, bytes);
                cos.flush();
                out.onNext(buf.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void sendRawMessage(byte[] bytes) {
            out.onNext(bytes);
        }

        /** The status the intake ended the stream with (fails if a message or nothing comes instead). */
        io.grpc.Status error() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            if (o instanceof Throwable t) return io.grpc.Status.fromThrowable(t);
            throw new AssertionError("expected the stream to fail, got " + o);
        }

        IntakeMessage next() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            if (o instanceof IntakeMessage m) return m;
            throw new AssertionError("expected a message, got " + o);
        }

        @Override
        public void close() {
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // already failed
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
