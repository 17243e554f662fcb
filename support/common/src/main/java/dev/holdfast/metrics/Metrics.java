package dev.holdfast.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Builds the one meter registry a Holdfast process exposes on {@code /metrics}, and picks its text format. */
public final class Metrics {

    static final String PREFIX = "holdfast.";
    /**
     * Meters of the JVM and the process, as Micrometer's binders name them: left under these names so that stock JVM
     * dashboards (which select {@code jvm_*}, {@code process_*}, {@code system_*}) work unchanged.
     */
    private static final java.util.List<String> STANDARD = java.util.List.of("jvm.", "process.", "system.");
    public static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private Metrics() {}

    /**
     * A Prometheus registry whose own meters come out as {@code holdfast_...}, with the JVM and process meters
     * already bound under their standard names.
     *
     * <p>Call once per process: the GC binder registers JMX notification listeners that live as long as
     * the JVM, so a registry created per request or per test would leak them.
     */
    public static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Filters only apply to meters registered after them, so this must precede the binders.
        registry.config().meterFilter(prefix());
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals(ProcessMeters.MICROMETER_CPU_TIME)));
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new ProcessMeters().bindTo(registry);
        return registry;
    }

    /**
     * The content type to answer a scrape with, from its {@code Accept} header: OpenMetrics 1.0 when asked for (as
     * Prometheus does by default), else the Prometheus text format 0.0.4. The registry's {@code scrape(type)} writes
     * the format the type names.
     */
    public static String contentType(String accept) {
        return accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : PROMETHEUS_TEXT;
    }

    /**
     * One namespace for Holdfast's own meters, so a dashboard selects them with one name prefix; the JVM's and the
     * process's keep their standard names ({@link #STANDARD}), which every JVM dashboard expects.
     */
    static MeterFilter prefix() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                String name = id.getName();
                if (name.startsWith(PREFIX) || STANDARD.stream().anyMatch(name::startsWith)) {
                    return id;
                }
                return id.withName(PREFIX + name);
            }
        };
    }
}
