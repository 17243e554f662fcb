package dev.holdfast.client;

import static dev.holdfast.config.ConfigText.quote;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The intake nodes an agent may send to: a static list of HOST:PORT, where a host is an IP literal or a DNS name.
 *
 * <p>Names are resolved here, not by gRPC, so that the data plane never depends on DNS being up: every name's last
 * known good addresses are kept when a later resolution fails (NXDOMAIN, timeout), and a name is re-resolved at
 * most once per {@code refreshNanos} — a name that never resolved is retried only when the session dials again,
 * which its jittered backoff paces, so losing DNS can never turn into a lookup storm. Each resolved address gets
 * its own channel; a failed address is skipped in favour of the next one.
 *
 * <p>Used by one session thread; {@link #resolutions()} and {@link #resolutionFailures()} from any thread.
 */
public final class Endpoints implements AutoCloseable {

    /**
     * One HOST:PORT as configured: a DNS name (re-resolved every refresh interval, so it may stand for several
     * intakes), an IPv4 address, or an IPv6 address in brackets. The host is kept without brackets.
     */
    public record Target(String host, int port) {
        public static final String SYNTAX =
                "HOST:PORT, e.g. \"intake.example.com:4317\", \"10.0.0.5:4317\" or \"[fd00::5]:4317\"";
        private static final java.util.regex.Pattern HOST_PORT =
                java.util.regex.Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[^:\\[\\]]+):(\\d{1,9})");
        // RFC 1123 labels; an IPv4 address is a name of digit labels and passes too.
        private static final java.util.regex.Pattern DNS_NAME = java.util.regex.Pattern.compile(
                "(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");

        public Target {
            if (host.isEmpty()) {
                throw new IllegalArgumentException("empty host");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 1..65535");
            }
        }

        /** Parses HOST:PORT; the exception's message says what is wrong, without naming a field. */
        public static Target parse(String text) {
            java.util.regex.Matcher m = HOST_PORT.matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException(quote(text) + " is not " + SYNTAX);
            }
            String host = m.group(1);
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            } else if (!DNS_NAME.matcher(host).matches()) {
                throw new IllegalArgumentException(quote(host) + " in "
                        + quote(text) + " is not a DNS name or IP address");
            }
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " in " + quote(text)
                        + " is outside 1..65535");
            }
            return new Target(host, port);
        }

        /** Parses a comma-separated list of HOST:PORT; at least one. */
        public static List<Target> parseList(String text) {
            List<Target> targets = new ArrayList<>();
            for (String part : text.split(",")) {
                if (!part.isBlank()) {
                    targets.add(parse(part));
                }
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("no HOST:PORT given");
            }
            return targets;
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** One address to dial, and the target it came from. */
    public record Endpoint(Target target, InetSocketAddress address) {
        @Override
        public String toString() {
            String ip = address.getAddress().getHostAddress();
            return ip.equals(target.host()) ? target.toString() : target + " (" + ip + ")";
        }
    }

    /** Name lookup, replaceable in tests. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** Builds the channel for one address. */
    @FunctionalInterface
    public interface ChannelFactory extends AutoCloseable {
        ManagedChannel create(InetSocketAddress address);

        /** For one resolved endpoint; a TLS factory verifies the server's certificate against the target's name. */
        default ManagedChannel create(Endpoint endpoint) {
            return create(endpoint.address());
        }

        /** Releases what the factory holds (a TLS factory: its certificate watcher); channels are closed apart. */
        @Override
        default void close() {}

        /** A view for one of several {@link Endpoints} sharing this factory: closing it leaves the factory open. */
        default ChannelFactory shared() {
            ChannelFactory owner = this;
            return new ChannelFactory() {
                @Override
                public ManagedChannel create(InetSocketAddress address) {
                    return owner.create(address);
                }

                @Override
                public ManagedChannel create(Endpoint endpoint) {
                    return owner.create(endpoint);
                }
            };
        }

        /** Every call on this factory's channels goes through {@code interceptor} (e.g. a bearer token). */
        default ChannelFactory intercepted(io.grpc.ClientInterceptor interceptor) {
            ChannelFactory owner = this;
            return new ChannelFactory() {
                @Override
                public ManagedChannel create(InetSocketAddress address) {
                    return new InterceptedChannel(owner.create(address), interceptor);
                }

                @Override
                public ManagedChannel create(Endpoint endpoint) {
                    return new InterceptedChannel(owner.create(endpoint), interceptor);
                }

                @Override
                public void close() {
                    owner.close();
                }
            };
        }
    }

    private final List<Target> targets;
    private final long refreshNanos;
    private final Resolver resolver;
    private final ChannelFactory channels;
    private final LongSupplier clock;
    private final Map<Target, Resolved> resolved = new LinkedHashMap<>();
    private final Map<InetSocketAddress, ManagedChannel> open = new HashMap<>();
    private final AtomicLong resolutions = new AtomicLong();
    private final AtomicLong resolutionFailures = new AtomicLong();
    private List<Endpoint> current = List.of();
    private int cursor;

    private record Resolved(List<InetAddress> addresses, long atNanos) {
    }

    public Endpoints(List<Target> targets, long refreshNanos, Resolver resolver, ChannelFactory channels,
                     LongSupplier clock) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("at least one intake endpoint is needed");
        }
        this.targets = List.copyOf(targets);
        this.refreshNanos = refreshNanos;
        this.resolver = resolver;
        this.channels = channels;
        this.clock = clock;
    }

    /** System DNS (and /etc/hosts), plaintext Netty channels calling back on the transport thread. */
    public static Endpoints standard(List<Target> targets, long refreshNanos) {
        return standard(targets, refreshNanos, Endpoints::plaintextChannel);
    }

    /** System DNS (and /etc/hosts), channels from {@code channels} (e.g. {@link TlsChannels}). */
    public static Endpoints standard(List<Target> targets, long refreshNanos, ChannelFactory channels) {
        return new Endpoints(targets, refreshNanos, InetAddress::getAllByName, channels, System::nanoTime);
    }

    /**
     * A plaintext channel to one address. The direct executor is safe because session listeners only enqueue; it
     * saves a thread hop per ack.
     */
    public static ManagedChannel plaintextChannel(InetSocketAddress address) {
        return NettyChannelBuilder.forAddress(address).usePlaintext().directExecutor().build();
    }

    /** The address to dial now (the one that last worked, unless it failed since), or null when none is known. */
    public Endpoint next() {
        refresh(clock.getAsLong());
        if (current.isEmpty()) {
            return null;
        }
        return current.get(Math.floorMod(cursor, current.size()));
    }

    /** The channel for an endpoint returned by {@link #next()}. */
    public ManagedChannel channel(Endpoint endpoint) {
        return open.computeIfAbsent(endpoint.address(), a -> channels.create(endpoint));
    }

    /** The endpoint did not answer or lost the stream: the next dial goes to the next address. */
    public void failed(Endpoint endpoint) {
        if (!current.isEmpty() && endpoint.equals(current.get(Math.floorMod(cursor, current.size())))) {
            cursor++;
        }
    }

    public long resolutions() {
        return resolutions.get();
    }

    public long resolutionFailures() {
        return resolutionFailures.get();
    }

    /** Every address currently known, in dial order. */
    public List<Endpoint> known() {
        return current;
    }

    private void refresh(long now) {
        boolean changed = false;
        for (Target t : targets) {
            Resolved r = resolved.get(t);
            boolean due = r == null || r.addresses.isEmpty() || now - r.atNanos >= refreshNanos;
            if (!due) {
                continue;
            }
            List<InetAddress> addresses = lookup(t.host());
            if (addresses == null) {
                // keep the last known good set (if any); try again after the refresh interval
                resolved.put(t, new Resolved(r == null ? List.of() : r.addresses, now));
                continue;
            }
            if (r == null || !r.addresses.equals(addresses)) {
                changed = true;
            }
            resolved.put(t, new Resolved(addresses, now));
        }
        if (changed || current.isEmpty()) {
            rebuild();
        }
    }

    private List<InetAddress> lookup(String host) {
        if (isLiteral(host)) {
            try {
                return List.of(InetAddress.getByName(host)); // a literal never touches DNS
            } catch (UnknownHostException e) {
                return null;
            }
        }
        resolutions.incrementAndGet();
        try {
            InetAddress[] all = resolver.resolve(host);
            return all.length == 0 ? null : List.of(all);
        } catch (UnknownHostException | RuntimeException e) {
            resolutionFailures.incrementAndGet();
            return null;
        }
    }

    private static boolean isLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    }

    private void rebuild() {
        Endpoint was = current.isEmpty() ? null : current.get(Math.floorMod(cursor, current.size()));
        List<Endpoint> next = new ArrayList<>();
        for (Target t : targets) {
            Resolved r = resolved.get(t);
            if (r != null) {
                for (InetAddress a : r.addresses) {
                    next.add(new Endpoint(t, new InetSocketAddress(a, t.port())));
                }
            }
        }
        current = List.copyOf(next);
        cursor = was == null ? 0 : Math.max(0, current.indexOf(was));
        // channels to addresses that disappeared are closed; their streams fail over like any lost stream
        open.entrySet().removeIf(e -> {
            boolean gone = current.stream().noneMatch(ep -> ep.address().equals(e.getKey()));
            if (gone) {
                e.getValue().shutdown();
            }
            return gone;
        });
    }

    @Override
    public void close() {
        channels.close();
        for (ManagedChannel c : open.values()) {
            c.shutdownNow();
        }
        for (ManagedChannel c : open.values()) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        open.clear();
    }
}
