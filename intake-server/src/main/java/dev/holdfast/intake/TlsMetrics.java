package dev.holdfast.intake;

import dev.holdfast.tls.ReloadingTls;
import dev.holdfast.tls.TlsListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;

/**
 * The TLS meters: {@code holdfast_tls_reload_failures_total} (a changed file refused, the last good material kept),
 * {@code holdfast_tls_reloads_total} and {@code holdfast_tls_certificate_expiry_seconds} (of the certificate new
 * handshakes get; negative once expired), so an alert can fire before a forgotten rotation becomes an outage.
 */
final class TlsMetrics implements TlsListener {
    private final Counter failures;
    private final Counter reloads;
    private final MeterRegistry registry;
    private final Clock clock;

    TlsMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        this.failures = Counter.builder("tls.reload.failures")
                .description("changed certificate, key or CA files refused; the last good ones stay in use")
                .register(registry);
        this.reloads = Counter.builder("tls.reloads").description("certificate and CA bundle reloads that took effect")
                .register(registry);
    }

    /** The expiry gauge, once the material is loaded. */
    void bind(ReloadingTls tls) {
        Gauge.builder("tls.certificate.expiry.seconds", tls, t -> Duration.between(clock.instant(),
                        t.keyManager().material().leaf().getNotAfter().toInstant()).toSeconds())
                .description("seconds until the certificate presented to new connections expires")
                .register(registry);
    }

    @Override
    public void certificateReloaded(X509Certificate leaf) {
        reloads.increment();
    }

    @Override
    public void trustReloaded() {
        reloads.increment();
    }

    @Override
    public void reloadFailed(Path file, String reason) {
        failures.increment();
    }
}
