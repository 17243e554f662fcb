package dev.holdfast.intake.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class MetricsTest {

    // One registry for the class: each newRegistry() leaves GC listeners behind (see Metrics).
    private static final PrometheusMeterRegistry REGISTRY = Metrics.newRegistry();

    @Test
    void meterNamesGetTheHoldfastPrefixInPrometheusForm() {
        REGISTRY.counter("wal.appended.batches").increment(3);
        String scrape = REGISTRY.scrape();
        assertTrue(scrape.contains("\nholdfast_wal_appended_batches_total 3.0\n"), scrape);
        assertFalse(scrape.contains("\nwal_appended_batches_total"), scrape);
    }

    @Test
    void namesAlreadyPrefixedAreLeftAlone() {
        REGISTRY.counter("holdfast.acks.sent").increment();
        String scrape = REGISTRY.scrape();
        assertTrue(scrape.contains("\nholdfast_acks_sent_total 1.0\n"), scrape);
        assertFalse(scrape.contains("holdfast_holdfast_"), scrape);
    }

    @Test
    void jvmAndProcessMetersAreBoundAndPrefixed() {
        String scrape = REGISTRY.scrape();
        for (String name : new String[] {
            "holdfast_jvm_classes_loaded_classes", "holdfast_jvm_memory_used_bytes", "holdfast_jvm_threads_live_threads",
            "holdfast_system_cpu_count", "holdfast_process_uptime_seconds", "holdfast_jvm_gc_"}) {
            assertTrue(scrape.contains("\n" + name), name + " missing from\n" + scrape);
        }
    }
}
