package dev.holdfast.intake.net;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/** How many more file descriptors this process may open. */
@FunctionalInterface
public interface OpenFiles {
    long free();

    /** This JVM's own count and limit (RLIMIT_NOFILE); unknown on other systems, where nothing is reserved. */
    static OpenFiles ofThisProcess() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return () -> unix.getMaxFileDescriptorCount() - unix.getOpenFileDescriptorCount();
        }
        return () -> Long.MAX_VALUE;
    }
}
