package dev.holdfast.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This machine's host name: the default intake node id and shipper agent id. */
public final class LocalHost {

    private LocalHost() {}

    public static String name() {
        // The kernel's name first: InetAddress.getLocalHost() resolves the name through DNS, which can
        // hang for seconds on a badly configured host and would make startup (and defaults()) slow.
        try {
            String kernel = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!kernel.isEmpty()) {
                return kernel;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
