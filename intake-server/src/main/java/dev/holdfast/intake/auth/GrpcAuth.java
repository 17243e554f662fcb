package dev.holdfast.intake.auth;

import dev.holdfast.intake.config.IntakeConfig;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * auth: as the gRPC server applies it: the interceptor, and the token file with its reload poller. Without an auth
 * section nothing is intercepted and the service is exactly what it was before authentication existed.
 */
public final class GrpcAuth implements AutoCloseable {
    /** How often the token file is read for changes: a revoked token stops working within this. */
    public static final Duration TOKEN_POLL = Duration.ofSeconds(5);

    private final IntakeConfig.Auth auth;
    private final TokenFileWatcher tokens;
    private final ScheduledExecutorService poller;
    private final Authenticator authenticator;
    private final AuthInterceptor interceptor;

    private GrpcAuth(IntakeConfig.Auth auth, TokenFileWatcher tokens, ScheduledExecutorService poller,
                     Authenticator authenticator, AuthInterceptor interceptor) {
        this.auth = auth;
        this.tokens = tokens;
        this.poller = poller;
        this.authenticator = authenticator;
        this.interceptor = interceptor;
    }

    /** Loads the token file (a bad one fails the start, naming file and line) and starts polling it. */
    public static GrpcAuth start(IntakeConfig.Auth auth, MeterRegistry registry, Clock clock) {
        if (!auth.active()) {
            return new GrpcAuth(auth, null, null, null, null);
        }
        TokenFileWatcher tokens = null;
        ScheduledExecutorService poller = null;
        if (auth.tokens() != null) {
            tokens = new TokenFileWatcher(auth.tokens(), registry, clock);
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "auth-tokens");
                t.setDaemon(true);
                return t;
            });
            tokens.start(poller, TOKEN_POLL);
        }
        Authenticator authenticator = new Authenticator(auth, tokens != null ? tokens : () -> Tokens.EMPTY);
        return new GrpcAuth(auth, tokens, poller, authenticator, new AuthInterceptor(authenticator, registry));
    }

    /**
     * The authenticator the interceptor uses (the same token file, reloaded), for listeners that are not gRPC
     * (OTLP/HTTP); empty without an auth section: every caller is then {@link Caller#ANONYMOUS}, whatever it presents.
     */
    public Optional<Authenticator> authenticator() {
        return Optional.ofNullable(authenticator);
    }

    public ServerServiceDefinition intercept(ServerServiceDefinition service) {
        return interceptor == null ? service : ServerInterceptors.intercept(service, interceptor);
    }

    public Optional<TokenFileWatcher> tokens() {
        return Optional.ofNullable(tokens);
    }

    /** For the start-up line: "none", or what is required and from where. */
    public String describe() {
        return !auth.active() ? "none" : "require=" + auth.require().name().toLowerCase()
                + (tokens == null ? "" : " tokens=" + auth.tokens() + " (" + tokens.get().size() + ")")
                + " agent-rules=" + auth.agents().size();
    }

    @Override
    public void close() {
        if (tokens != null) {
            tokens.close();
        }
        if (poller != null) {
            poller.shutdownNow();
        }
    }
}
