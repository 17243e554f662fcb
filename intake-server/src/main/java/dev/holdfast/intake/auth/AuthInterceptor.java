package dev.holdfast.intake.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Establishes the caller of every gRPC call before its handler runs ({@link Caller#current()} there), and ends a call
 * whose credentials are missing or unknown with UNAUTHENTICATED before any of its messages is read. What a caller may
 * then do, as which agent, the handlers decide ({@link Caller#refusal}).
 */
public final class AuthInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final Authenticator authenticator;
    private final Counter unauthenticated;

    public AuthInterceptor(Authenticator authenticator, MeterRegistry registry) {
        this.authenticator = authenticator;
        this.unauthenticated = Counter.builder("auth.refused").tag("reason", "unauthenticated")
                .description("gRPC calls refused for missing or unknown credentials").register(registry);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        Caller caller;
        try {
            caller = authenticator.authenticate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION),
                    headers.get(AUTHORIZATION));
        } catch (Authenticator.UnauthenticatedException e) {
            unauthenticated.increment();
            call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(caller.attach(Context.current()), call, headers, next);
    }
}
