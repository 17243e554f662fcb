package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback that sits between two Holdfast processes and can fail the link: drop every connection
 * (and refuse new ones), blackhole it (connections stay open, bytes vanish both ways: what a partition looks like to
 * TCP), or delay every chunk it forwards.
 */
public final class TcpProxy implements AutoCloseable {
    public enum Mode { PASS, DROP, BLACKHOLE }

    private final String name;
    private final ServerSocket server;
    private final int targetPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final AtomicLong connections = new AtomicLong();
    private volatile Mode mode = Mode.PASS;
    private volatile long latencyMillis;
    private volatile boolean closed;

    /** Listens on {@code listenPort} (0: any free port) of 127.0.0.1 and forwards to 127.0.0.1:{@code targetPort}. */
    public TcpProxy(String name, int listenPort, int targetPort) throws IOException {
        this.name = name;
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
        Thread acceptor = new Thread(this::acceptLoop, "proxy-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public long connectionsAccepted() {
        return connections.get();
    }

    /** Drop: every open connection is reset, new ones are closed at once (like a refused or crashed peer). */
    public void drop() {
        mode = Mode.DROP;
        closeAll();
    }

    /** Blackhole: connections stay up but nothing gets through in either direction. */
    public void blackhole() {
        mode = Mode.BLACKHOLE;
    }

    /** Back to normal. Connections that were blackholed are closed (TCP would have timed them out). */
    public void heal() {
        Mode was = mode;
        mode = Mode.PASS;
        if (was == Mode.BLACKHOLE) {
            closeAll();
        }
    }

    public void latency(long millis) {
        latencyMillis = millis;
    }

    private void closeAll() {
        for (Link l : links) {
            l.close();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                connections.incrementAndGet();
                if (mode == Mode.DROP) {
                    client.setSoLinger(true, 0);
                    client.close();
                    continue;
                }
                Link link = new Link(client);
                links.add(link);
                link.start();
            } catch (IOException e) {
                if (!closed) {
                    sleepQuietly(10);
                }
            }
        }
    }

    private final class Link {
        private final Socket client;
        private volatile Socket upstream;

        Link(Socket client) {
            this.client = client;
        }

        void start() {
            Thread t = new Thread(() -> {
                try {
                    // a blackholed link has not reached its target yet: hold the client until healed or dropped
                    while (mode == Mode.BLACKHOLE && !client.isClosed()) {
                        sleepQuietly(20);
                    }
                    if (client.isClosed() || mode == Mode.DROP) {
                        close();
                        return;
                    }
                    upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                    upstream.setTcpNoDelay(true);
                    client.setTcpNoDelay(true);
                    Thread back = new Thread(() -> pump(upstream, client), "proxy-" + name + "-down");
                    back.setDaemon(true);
                    back.start();
                    pump(client, upstream);
                } catch (IOException e) {
                    close();
                }
            }, "proxy-" + name + "-up");
            t.setDaemon(true);
            t.start();
        }

        private void pump(Socket from, Socket to) {
            byte[] buf = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (mode == Mode.BLACKHOLE) {
                        continue; // read and discard: the sender's bytes go nowhere, nothing comes back
                    }
                    long delay = latencyMillis;
                    if (delay > 0) {
                        sleepQuietly(delay);
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // a reset or a close: the link is over
            } finally {
                close();
            }
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            Socket u = upstream;
            if (u != null) {
                closeQuietly(u);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        closeAll();
    }
}
