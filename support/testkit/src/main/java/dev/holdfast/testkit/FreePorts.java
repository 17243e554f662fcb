package dev.holdfast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ports nothing listens on right now, for a process or server a test is about to start.
 *
 * <p>A test usually needs several (gRPC, HTTP, metrics) and picks them one after another before anything binds
 * them; the kernel may then hand out the port it has just released again, and the second server fails to bind.
 * So a port is never handed out twice in one JVM. Another process can still take a port before the test binds it.
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    /** A free loopback port not handed out before in this JVM. */
    public static int next() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free loopback port", e);
            }
        }
        throw new IllegalStateException("no free loopback port that was not handed out already");
    }
}
