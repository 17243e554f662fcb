package dev.holdfast.intake.http;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Builds the one meter registry a Holdfast process exposes on {@code /metrics}. */
public final class Metrics {

    static final String PREFIX = "holdfast.";

    private Metrics() {}

    /**
     * A Prometheus registry whose meters all come out as {@code holdfast_...}, with JVM and process
     * meters already bound.
     *
     * <p>Call once per process: the GC binder registers JMX notification listeners that live as long as
     * the JVM, so a registry created per request or per test would leak them.
     */
    public static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Filters only apply to meters registered after them, so this must precede the binders.
        registry.config().meterFilter(prefix());
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
    }

    /**
     * One namespace for everything we export, JVM meters included, so a dashboard can select the
     * process's series with a single name prefix even when other JVMs share the Prometheus.
     */
    static MeterFilter prefix() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().startsWith(PREFIX) ? id : id.withName(PREFIX + id.getName());
            }
        };
    }
}
