package dev.holdfast.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Free ports for a broker's configuration, which must name concrete ports (the controller port is in the voter
 * list; a listener on port 0 does not tell which port it got).
 *
 * <p>All the ports one broker needs are picked together, with every socket held open until the last is bound:
 * picked one after another, the kernel may hand out a port it has just released again, and Kafka refuses two
 * listeners on one port. Another process can still take a port between this pick and Kafka's bind; that start
 * then fails, as it would for a fixed port already in use.
 */
final class FreePorts {
    private FreePorts() {}

    /** {@code n} distinct ports free on {@code host} right now, none of them in {@code taken}. */
    static List<Integer> distinct(String host, int n, Collection<Integer> taken) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        try {
            while (ports.size() < n) {
                ServerSocket s = new ServerSocket();
                held.add(s);
                s.bind(new InetSocketAddress(host, 0));
                if (!taken.contains(s.getLocalPort())) {
                    ports.add(s.getLocalPort());
                }
            }
            return List.copyOf(ports);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
