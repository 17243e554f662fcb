package dev.holdfast.intake.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Refuses compressed calls, before a byte of their messages is read. holdfast.v1 agents never compress, so a
 * compressed message there can only be an attack (a gzip bomb): it is answered UNIMPLEMENTED unread rather than
 * inflated up to the transport's limit. The server itself takes gzip, for OTLP, which bounds its own reads.
 */
public final class Uncompressed implements ServerInterceptor {
    private static final Metadata.Key<String> ENCODING =
            Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        String encoding = headers.get(ENCODING);
        if (encoding != null && !encoding.equals("identity")) {
            call.close(Status.UNIMPLEMENTED.withDescription(call.getMethodDescriptor().getServiceName()
                    + " takes no compressed messages (grpc-encoding " + encoding.substring(0,
                    Math.min(encoding.length(), 32)) + ")"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
