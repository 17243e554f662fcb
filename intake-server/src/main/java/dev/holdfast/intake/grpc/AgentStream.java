package dev.holdfast.intake.grpc;

import dev.holdfast.intake.BatchIntake;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.function.BiFunction;

/**
 * One agent's stream: Hello → Welcome (the resume point), then batches in and acks out in completion order.
 * Acks come from WAL writer threads, so every write to the response observer is serialised here.
 */
final class AgentStream implements StreamObserver<InboundMessage> {
    private final BatchIntake intake;
    /** (agent id, acknowledged through) → the agent's resume point */
    private final BiFunction<String, Long, Welcome> welcome;
    private final ServerCallStreamObserver<IntakeMessage> out;
    private String agentId;
    private int outstanding;
    private boolean halfClosed;
    private boolean finished;

    AgentStream(BatchIntake intake, BiFunction<String, Long, Welcome> welcome, ServerCallStreamObserver<IntakeMessage> out) {
        this.intake = intake;
        this.welcome = welcome;
        this.out = out;
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                finished = true; // acks still pending are dropped; the agent resends after its next Welcome
            }
        });
    }

    @Override
    public void onNext(InboundMessage message) {
        if (message instanceof InboundMessage.Hello hello) {
            onHello(hello.agentId(), hello.acknowledgedThrough());
        } else if (message instanceof InboundMessage.Batch batch) {
            onBatch(batch.bytes());
        } else if (message instanceof InboundMessage.Malformed bad) {
            send(IntakeMessage.newBuilder().setAck(BatchAck.newBuilder()
                    .setStatus(BatchAck.Status.INVALID).setMessage(bad.reason())).build());
        }
    }

    private void onHello(String agent, long acknowledgedThrough) {
        if (agent.isEmpty()) {
            fail(Status.INVALID_ARGUMENT.withDescription("hello.agent_id is empty"));
            return;
        }
        synchronized (this) {
            agentId = agent;
        }
        send(IntakeMessage.newBuilder().setWelcome(welcome.apply(agent, acknowledgedThrough)).build());
    }

    private void onBatch(byte[] bytes) {
        String expectedAgent;
        synchronized (this) {
            outstanding++;
            expectedAgent = agentId;
        }
        intake.accept(bytes, expectedAgent).whenComplete((ack, error) -> {
            IntakeMessage msg = error != null
                    ? IntakeMessage.newBuilder().setAck(BatchAck.newBuilder().setStatus(BatchAck.Status.RETRY_LATER)
                            .setRetryAfterMs(1000).setMessage("internal error: " + error)).build()
                    : IntakeMessage.newBuilder().setAck(ack).build();
            synchronized (this) {
                outstanding--;
                sendLocked(msg);
                completeIfDrained();
            }
        });
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            finished = true;
        }
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            halfClosed = true;
            completeIfDrained();
        }
    }

    private void completeIfDrained() {
        if (halfClosed && outstanding == 0 && !finished) {
            finished = true;
            out.onCompleted();
        }
    }

    private synchronized void send(IntakeMessage msg) {
        sendLocked(msg);
    }

    private void sendLocked(IntakeMessage msg) {
        if (!finished && !out.isCancelled()) {
            out.onNext(msg);
        }
    }

    private synchronized void fail(Status status) {
        if (!finished) {
            finished = true;
            out.onError(status.asRuntimeException());
        }
    }
}
