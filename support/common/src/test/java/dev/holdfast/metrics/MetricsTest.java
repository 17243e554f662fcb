package dev.holdfast.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void jvmAndProcessMetersKeepTheirStandardNames() {
        String scrape = REGISTRY.scrape();
        for (String name : new String[] {
            "jvm_classes_loaded_classes", "jvm_memory_used_bytes", "jvm_threads_live_threads",
            "system_cpu_count", "process_uptime_seconds", "process_files_open_files", "jvm_gc_"}) {
            assertTrue(scrape.contains("\n" + name), name + " missing from\n" + scrape);
        }
        assertFalse(scrape.contains("holdfast_jvm_"), scrape);
    }

    @Test
    void theAcceptHeaderChoosesTheFormat() {
        assertEquals(Metrics.OPENMETRICS, Metrics.contentType(
                "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"));
        assertEquals(Metrics.PROMETHEUS_TEXT, Metrics.contentType("text/plain"));
        assertEquals(Metrics.PROMETHEUS_TEXT, Metrics.contentType(null));
        assertTrue(REGISTRY.scrape(Metrics.OPENMETRICS).endsWith("# EOF\n"));
        assertFalse(REGISTRY.scrape(Metrics.PROMETHEUS_TEXT).contains("# EOF"));
    }
}
