package dev.holdfast.intake.otlp;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.holdfast.intake.auth.Caller;
import dev.holdfast.otlp.OtlpSignal;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;

import java.util.List;

/**
 * OTLP/gRPC: the Logs, Trace and Metrics services on the intake's gRPC server, beside holdfast.v1. Requests are bound
 * as raw bytes (gzip already undone by gRPC, within the transport's message limit) so they reach the WAL exactly as
 * sent; the answer is sent from the WAL's durable outcome, never from a thread that waits. Back-pressure as the OTLP
 * specification asks, so SDKs and Collectors retry by themselves: RESOURCE_EXHAUSTED (shed) or UNAVAILABLE (cannot
 * write), each with a {@code google.rpc.RetryInfo} delay.
 */
public final class OtlpGrpcServices {
    /** The WAL and Kafka name an anonymous OTLP sender so. */
    public static final String ANONYMOUS_SENDER = "otlp";

    private final OtlpIntake intake;

    public OtlpGrpcServices(OtlpIntake intake) {
        this.intake = intake;
    }

    public List<ServerServiceDefinition> definitions() {
        return List.of(
                definition(OtlpSignal.LOGS, LogsServiceGrpc.getExportMethod(),
                        ExportLogsServiceResponse.getDefaultInstance()),
                definition(OtlpSignal.TRACES, TraceServiceGrpc.getExportMethod(),
                        ExportTraceServiceResponse.getDefaultInstance()),
                definition(OtlpSignal.METRICS, MetricsServiceGrpc.getExportMethod(),
                        ExportMetricsServiceResponse.getDefaultInstance()));
    }

    private <Q, R extends Message> ServerServiceDefinition definition(OtlpSignal signal, MethodDescriptor<Q, R> export,
                                                                       R emptyResponse) {
        MethodDescriptor<OtlpBody, Message> method = export.toBuilder(OtlpBody.marshaller(intake.maxRequestBytes()),
                ProtoUtils.<Message>marshaller(emptyResponse)).build();
        return ServerServiceDefinition.builder(export.getServiceName())
                .addMethod(method, ServerCalls.asyncUnaryCall((request, out) -> export(signal, request, out)))
                .build();
    }

    /** The sender's name in the WAL and in Kafka headers: its certificate or token identity, or "otlp". */
    public static String sender(Caller caller) {
        return caller.unrestricted() ? ANONYMOUS_SENDER : caller.name();
    }

    private void export(OtlpSignal signal, OtlpBody body, StreamObserver<Message> out) {
        if (body.problem() != null) {
            intake.refused(signal, "OTLP " + signal.configName() + " " + body.problem());
            out.onError(Status.INVALID_ARGUMENT.withDescription("OTLP " + signal.configName() + " " + body.problem())
                    .asRuntimeException());
            return;
        }
        intake.accept(signal, body.bytes(), sender(Caller.current())).whenComplete((result, error) -> {
            if (error != null) {
                out.onError(Status.INTERNAL.withDescription(error.toString()).asRuntimeException());
            } else if (result instanceof OtlpResult.Accepted a) {
                out.onNext(signal.response(a.rejected(), a.message()));
                out.onCompleted();
            } else if (result instanceof OtlpResult.RetryLater later) {
                out.onError(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                        .setCode((later.overloaded() ? Code.RESOURCE_EXHAUSTED : Code.UNAVAILABLE).getNumber())
                        .setMessage(later.message())
                        .addDetails(Any.pack(retryInfo(later.retryAfterMs())))
                        .build()));
            } else {
                out.onError(Status.INVALID_ARGUMENT.withDescription(((OtlpResult.Invalid) result).message())
                        .asRuntimeException());
            }
        });
    }

    static RetryInfo retryInfo(long millis) {
        return RetryInfo.newBuilder().setRetryDelay(Duration.newBuilder().setSeconds(millis / 1000)
                .setNanos((int) (millis % 1000) * 1_000_000)).build();
    }
}
