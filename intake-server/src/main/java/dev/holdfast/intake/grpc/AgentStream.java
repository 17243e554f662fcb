package dev.holdfast.intake.grpc;

import dev.holdfast.intake.BatchIntake;
import dev.holdfast.intake.BatchValidator;
import dev.holdfast.intake.auth.Caller;
import dev.holdfast.intake.auth.Quote;
import dev.holdfast.intake.status.ConnectedAgents;
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
 *
 * <p>The protocol is strict, and every breach is answered: a batch before the Hello is refused INVALID (it is never
 * accepted as any agent); a second Hello ends the stream with FAILED_PRECONDITION; a message carrying both a hello
 * and a batch (or either twice) ends it with INVALID_ARGUMENT.
 *
 * <p>Flow control: the stream reads its next message only while the agent is reading acks (the response is ready)
 * and fewer than {@link #MAX_OUTSTANDING} batches wait for theirs. A client that sends and never reads is thus
 * held back by HTTP/2 flow control instead of making the intake queue acks for it without bound.
 */
final class AgentStream implements StreamObserver<InboundMessage> {
    private final BatchIntake intake;
    /** (agent id, acknowledged through) → the agent's resume point */
    private final BiFunction<String, Long, Welcome> welcome;
    private final ServerCallStreamObserver<IntakeMessage> out;
    /** Who opened the stream: its Hello must name an agent this caller may send as. */
    private final Caller caller;
    /** Where the stream is listed as a connected agent, from its Hello until it ends. */
    private final ConnectedAgents agents;
    /** This stream's entry there; null before the Hello. */
    private ConnectedAgents.Session session;
    /** Set by the Hello; gRPC delivers a stream's messages one at a time, in order. */
    private String agentId;
    private long claimedThrough;
    private int outstanding;
    private boolean halfClosed;
    private boolean finished;
    /** A message has been requested from gRPC and not yet delivered. */
    private boolean requested;
    static final int MAX_OUTSTANDING = 64;

    AgentStream(BatchIntake intake, BiFunction<String, Long, Welcome> welcome, ServerCallStreamObserver<IntakeMessage> out,
                Caller caller, ConnectedAgents agents) {
        this.intake = intake;
        this.caller = caller;
        this.agents = agents;
        this.welcome = welcome;
        this.out = out;
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                finish(); // acks still pending are dropped; the agent resends after its next Welcome
            }
        });
        out.disableAutoRequest(); // called while the call is being set up, as gRPC requires
        out.setOnReadyHandler(this::requestIfRoom);
        requestIfRoom();
    }

    /** Asks gRPC for the next inbound message when the agent reads its acks and the stream has room for another. */
    private void requestIfRoom() {
        synchronized (this) {
            if (requested || finished || halfClosed || outstanding >= MAX_OUTSTANDING || !out.isReady()) {
                return;
            }
            requested = true;
        }
        out.request(1);
    }

    @Override
    public void onNext(InboundMessage message) {
        synchronized (this) {
            requested = false;
        }
        try {
            handle(message);
        } finally {
            requestIfRoom();
        }
    }

    private void handle(InboundMessage message) {
        if (message instanceof InboundMessage.Hello hello) {
            onHello(hello.agentId(), hello.acknowledgedThrough());
        } else if (message instanceof InboundMessage.Batch batch) {
            onBatch(batch.bytes());
        } else if (message instanceof InboundMessage.Malformed bad) {
            send(invalid(0, bad.reason()));
        } else if (message instanceof InboundMessage.Ambiguous ambiguous) {
            fail(Status.INVALID_ARGUMENT.withDescription(ambiguous.reason()));
        }
    }

    private void onHello(String agent, long acknowledgedThrough) {
        String problem = intake.agentIdProblem("hello.agent_id", agent);
        if (problem != null) {
            fail(Status.INVALID_ARGUMENT.withDescription(problem));
            return;
        }
        // Refused before the Hello binds the stream or computes a Welcome: another agent's state is neither read
        // nor changed. The stream's batches must then carry this agent (BatchValidator), so they need no check.
        String refusal = caller.refusal("hello.agent_id", agent);
        if (refusal != null) {
            intake.permissionDenied();
            fail(Status.PERMISSION_DENIED.withDescription(refusal));
            return;
        }
        String earlier;
        synchronized (this) {
            earlier = agentId;
            if (earlier == null) {
                agentId = agent;
                claimedThrough = acknowledgedThrough;
                if (!finished) { // a stream already cancelled would never leave the list
                    session = agents.open(agent);
                }
            }
        }
        if (earlier != null) {
            // Its batches are already bound to the first agent id; a new Hello needs a new stream.
            fail(Status.FAILED_PRECONDITION.withDescription("a second Hello on one stream (this stream said Hello as "
                    + Quote.prefix(earlier) + "): a stream carries exactly one Hello, first; open a new stream to say Hello again"));
            return;
        }
        send(IntakeMessage.newBuilder().setWelcome(welcome.apply(agent, acknowledgedThrough)).build());
    }

    private void onBatch(byte[] bytes) {
        String expectedAgent;
        long claim;
        synchronized (this) {
            if (finished) {
                return; // the stream was ended (a refused message, a cancel): nobody would get the ack
            }
            expectedAgent = agentId;
            claim = claimedThrough;
            if (expectedAgent != null) {
                outstanding++;
            }
        }
        if (expectedAgent == null) {
            send(invalid(BatchValidator.peekBatchSeq(bytes), "batch before Hello: a stream must begin with a Hello "
                    + "naming its agent, and only batches after it are accepted; nothing was written"));
            return;
        }
        intake.accept(bytes, expectedAgent, claim).whenComplete((ack, error) -> {
            IntakeMessage msg = error != null
                    ? IntakeMessage.newBuilder().setAck(BatchAck.newBuilder().setStatus(BatchAck.Status.RETRY_LATER)
                            .setRetryAfterMs(1000).setMessage("internal error: " + error)).build()
                    : IntakeMessage.newBuilder().setAck(ack).build();
            synchronized (this) {
                outstanding--;
                sendLocked(msg);
                completeIfDrained();
            }
            requestIfRoom();
        });
    }

    private static IntakeMessage invalid(long seq, String why) {
        return IntakeMessage.newBuilder().setAck(BatchAck.newBuilder().setBatchSeq(seq)
                .setStatus(BatchAck.Status.INVALID).setMessage(why)).build();
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            finish();
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
            finish();
            out.onCompleted();
        }
    }

    private synchronized void send(IntakeMessage msg) {
        sendLocked(msg);
    }

    private void sendLocked(IntakeMessage msg) {
        if (!finished && !out.isCancelled()) {
            out.onNext(msg);
            if (session != null && msg.hasAck() && (msg.getAck().getStatus() == BatchAck.Status.PERSISTED
                    || msg.getAck().getStatus() == BatchAck.Status.DUPLICATE)) {
                session.acked(msg.getAck().getBatchSeq());
            }
        }
    }

    private synchronized void fail(Status status) {
        if (!finished) {
            finish();
            out.onError(status.asRuntimeException());
        }
    }

    /** The stream is over, however it ended: it no longer counts as a connected agent. Called holding the lock. */
    private void finish() {
        finished = true;
        if (session != null) {
            session.close();
        }
    }
}
