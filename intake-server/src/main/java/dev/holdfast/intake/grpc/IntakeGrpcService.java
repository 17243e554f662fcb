package dev.holdfast.intake.grpc;

import dev.holdfast.intake.BatchIntake;
import dev.holdfast.intake.BatchValidator;
import dev.holdfast.intake.auth.Caller;
import dev.holdfast.intake.status.ConnectedAgents;
import dev.holdfast.protocol.ByteArrayMarshaller;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Welcome;
import dev.holdfast.wal.AgentSequences;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * holdfast.v1.IntakeService, bound with raw-bytes request marshallers (see {@link RawMarshallers}) so batches reach
 * the WAL exactly as sent. Handlers only validate and enqueue; acknowledgements are sent from the WAL writer's
 * completion, so no gRPC thread ever waits on the disk.
 */
public final class IntakeGrpcService {
    public static final Metadata.Key<String> RETRY_AFTER_MS =
            Metadata.Key.of("holdfast-retry-after-ms", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<BatchAck> ACK =
            ProtoUtils.keyForProto(BatchAck.getDefaultInstance());

    private final BatchIntake intake;
    private final AgentSequences sequences;
    private final String nodeId;
    private final ConnectedAgents agents;

    /** @param agents where each stream is listed from its Hello until it ends (the status page's connected agents) */
    public IntakeGrpcService(BatchIntake intake, AgentSequences sequences, String nodeId, ConnectedAgents agents) {
        this.intake = intake;
        this.sequences = sequences;
        this.nodeId = nodeId;
        this.agents = agents;
    }

    public ServerServiceDefinition definition() {
        MethodDescriptor<InboundMessage, IntakeMessage> stream = IntakeServiceGrpc.getStreamMethod()
                .toBuilder(RawMarshallers.AGENT_MESSAGE, ProtoUtils.marshaller(IntakeMessage.getDefaultInstance()))
                .build();
        MethodDescriptor<byte[], BatchAck> send = IntakeServiceGrpc.getSendMethod()
                .toBuilder(new ByteArrayMarshaller(), ProtoUtils.marshaller(BatchAck.getDefaultInstance()))
                .build();
        return ServerServiceDefinition.builder(IntakeServiceGrpc.getServiceDescriptor().getName())
                .addMethod(stream, ServerCalls.asyncBidiStreamingCall(this::openStream))
                .addMethod(send, ServerCalls.asyncUnaryCall(this::send))
                .addMethod(IntakeServiceGrpc.getResumeMethod(), ServerCalls.asyncUnaryCall(this::resume))
                .build();
    }

    private StreamObserver<InboundMessage> openStream(StreamObserver<IntakeMessage> responses) {
        // the caller is read here, while the call's context is current; the stream checks its Hello against it
        return new AgentStream(intake, this::welcome, (ServerCallStreamObserver<IntakeMessage>) responses,
                Caller.current(), agents);
    }

    /**
     * The agent's resume point for this one answer: what this WAL holds, merged with the agent's claim that every
     * seq up to {@code acknowledgedThrough} is durable somewhere (so an agent failing over from another node gets one
     * number instead of a long list). Read-only: the claim is not remembered and never makes a batch count as held.
     */
    Welcome welcome(String agentId, long acknowledgedThrough) {
        AgentSequences.Resume r = sequences.resume(agentId, acknowledgedThrough);
        return Welcome.newBuilder().setPersistedThrough(r.persistedThrough())
                .addAllPersistedAbove(r.persistedAbove()).setIntakeNode(nodeId).build();
    }

    private void resume(Hello hello, StreamObserver<Welcome> out) {
        String problem = intake.agentIdProblem("agent_id", hello.getAgentId());
        if (problem != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException());
            return;
        }
        // Read-only, yet another agent's resume point is not the caller's to see
        String refusal = Caller.current().refusal("agent_id", hello.getAgentId());
        if (refusal != null) {
            intake.permissionDenied();
            out.onError(Status.PERMISSION_DENIED.withDescription(refusal).asRuntimeException());
            return;
        }
        out.onNext(welcome(hello.getAgentId(), hello.getAcknowledgedThrough()));
        out.onCompleted();
    }

    /**
     * Unary: PERSISTED and DUPLICATE are answered normally; RETRY_LATER becomes RESOURCE_EXHAUSTED and INVALID
     * becomes INVALID_ARGUMENT, so plain gRPC clients back off or fail loudly. The ack rides in the trailers too.
     */
    private void send(byte[] batch, StreamObserver<BatchAck> out) {
        Caller caller = Caller.current();
        String agent = null;
        if (!caller.unrestricted()) {
            // Decided before the batch is validated or admitted, on the agent id the full parse will read; the
            // intake is then told to expect exactly that agent, so the two readings can never differ.
            // Bytes too broken to tell fail the parse too; "" then makes sure nothing unchecked is ever written.
            // An id the validator refuses anyway (empty, too long) gets its precise INVALID from it.
            String peeked = BatchValidator.peekAgentId(batch);
            agent = peeked == null ? "" : peeked;
            String refusal = peeked == null || intake.agentIdProblem("agent_id", peeked) != null ? null
                    : caller.refusal("agent_id", peeked);
            if (refusal != null) {
                intake.permissionDenied();
                out.onError(Status.PERMISSION_DENIED.withDescription(refusal).asRuntimeException());
                return;
            }
        }
        intake.accept(batch, agent, 0).whenComplete((ack, error) -> {
            if (error != null) {
                out.onError(Status.INTERNAL.withDescription(error.toString()).asRuntimeException());
                return;
            }
            switch (ack.getStatus()) {
                case PERSISTED, DUPLICATE -> {
                    out.onNext(ack);
                    out.onCompleted();
                }
                default -> {
                    Metadata trailers = new Metadata();
                    trailers.put(ACK, ack);
                    Status status;
                    if (ack.getStatus() == BatchAck.Status.RETRY_LATER) {
                        trailers.put(RETRY_AFTER_MS, Integer.toString(ack.getRetryAfterMs()));
                        status = Status.RESOURCE_EXHAUSTED;
                    } else {
                        status = Status.INVALID_ARGUMENT;
                    }
                    out.onError(status.withDescription(ack.getMessage()).asRuntimeException(trailers));
                }
            }
        });
    }
}
