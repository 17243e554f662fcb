package dev.holdfast.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void everyFamilyIsInBaseUnitsAndTheProcessHasItsPrometheusClientNames() {
        String scrape = REGISTRY.scrape();
        Matcher family = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(scrape);
        int families = 0;
        while (family.find()) {
            families++;
            String name = family.group(1);
            assertFalse(Pattern.compile("_(ns|us|ms|nanoseconds|microseconds|milliseconds|kb|kib|mb|mib|gb|gib)(_|$)")
                    .matcher(name).find(), name + " is not in base units");
        }
        assertTrue(families > 20, scrape);
        assertTrue(sample(scrape, "process_cpu_seconds_total") > 0, scrape);
        assertTrue(sample(scrape, "process_resident_memory_bytes") > 1 << 20, scrape);
        assertFalse(scrape.contains("process_cpu_time"), scrape);
    }

    @Test
    void residentMemoryIsReadFromTheStatusFileInBytes(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nVmPeak:\t  900 kB\nVmRSS:\t  123456 kB\nThreads:\t9\n");
        assertEquals(123456 * 1024.0, new ProcessMeters(status).residentBytes());
        Files.writeString(status, "VmRSS:\tgarbage kB\n");
        assertTrue(Double.isNaN(new ProcessMeters(status).residentBytes()));
        assertTrue(Double.isNaN(new ProcessMeters(dir.resolve("absent")).residentBytes()));
    }

    private static double sample(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(scrape);
        assertTrue(m.find(), name + " missing from\n" + scrape);
        return Double.parseDouble(m.group(1));
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
