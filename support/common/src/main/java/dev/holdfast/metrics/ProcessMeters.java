package dev.holdfast.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's CPU time and resident memory under the names the Prometheus clients give them,
 * {@code process_cpu_seconds_total} and {@code process_resident_memory_bytes}.
 *
 * <p>Micrometer has no resident-memory meter, and exports CPU time as {@code process_cpu_time_ns_total}: nanoseconds,
 * which no dashboard expects and Prometheus' base-unit rule forbids, so {@link Metrics} drops that one for this.
 */
final class ProcessMeters implements MeterBinder {

    /** Micrometer's CPU-time meter in nanoseconds, replaced by {@code process.cpu} in seconds. */
    static final String MICROMETER_CPU_TIME = "process.cpu.time";

    private final Path status;

    ProcessMeters() {
        this(Path.of("/proc/self/status"));
    }

    ProcessMeters(Path status) {
        this.status = status;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                    .baseUnit("seconds")
                    .description("CPU time the process has used, user and system")
                    .register(registry);
        }
        Gauge.builder("process.resident.memory", this, ProcessMeters::residentBytes)
                .baseUnit("bytes")
                .description("The process's resident set size (VmRSS in /proc/self/status)")
                .register(registry);
    }

    /** VmRSS from the status file, in bytes; NaN when it cannot be read (not Linux), which Prometheus shows as such. */
    double residentBytes() {
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    // "VmRSS:	  123456 kB": the kernel always says kB (KiB)
                    String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // a gauge must not throw into a scrape; NaN says "unknown"
        }
        return Double.NaN;
    }
}
