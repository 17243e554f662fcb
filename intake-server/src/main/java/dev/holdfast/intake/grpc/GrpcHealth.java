package dev.holdfast.intake.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The standard {@code grpc.health.v1.Health} service on the intake's gRPC port, what Kubernetes' gRPC probes and
 * {@code grpc-health-probe} ask. It says SERVING exactly when {@code /readyz} says ready (the WAL is writable, the
 * writer runs), for the whole server ({@code ""}) and for {@code holdfast.v1.IntakeService}; it is polled every second, so
 * {@code Watch} callers see a change within one.
 *
 * <p>Registered without the authentication interceptor: a probe carries no token, and the answer tells nothing a
 * port scan would not. Where the port requires client certificates, the TLS handshake still does.
 *
 * <p>Lifecycle: construct, {@link #start}, {@link #close} (which answers NOT_SERVING from then on).
 */
public final class GrpcHealth implements AutoCloseable {
    /** The service name the Holdfast protocol is registered under. */
    static final String INTAKE_SERVICE = dev.holdfast.protocol.v1.IntakeServiceGrpc.SERVICE_NAME;

    private final HealthStatusManager manager = new HealthStatusManager();
    private final BooleanSupplier ready;
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "grpc-health");
        t.setDaemon(true);
        return t;
    });

    public GrpcHealth(BooleanSupplier ready) {
        this.ready = ready;
        update();
    }

    public ServerServiceDefinition definition() {
        return manager.getHealthService().bindService();
    }

    public void start() {
        poller.scheduleWithFixedDelay(this::update, 0, 1, TimeUnit.SECONDS);
    }

    /** Sets the status from the readiness now (the poller does it every second). */
    public void update() {
        ServingStatus status = ready.getAsBoolean() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        manager.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        manager.setStatus(INTAKE_SERVICE, status);
    }

    @Override
    public void close() {
        poller.shutdownNow();
        manager.enterTerminalState();
    }
}
