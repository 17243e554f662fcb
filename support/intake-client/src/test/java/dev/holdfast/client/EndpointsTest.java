package dev.holdfast.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EndpointsTest {

    private static final long REFRESH = TimeUnit.SECONDS.toNanos(30);
    private final AtomicLong now = new AtomicLong(1_000);

    private static ManagedChannel unusedChannel(java.net.InetSocketAddress a) {
        return ManagedChannelBuilder.forAddress(a.getHostString(), a.getPort()).usePlaintext().build();
    }

    @Test
    void keepsTheLastKnownGoodAddressesWhenDnsFailsAndResolvesAtMostOncePerRefresh() throws Exception {
        AtomicBoolean dnsUp = new AtomicBoolean(true);
        AtomicLong lookups = new AtomicLong();
        InetAddress intake = InetAddress.getByName("127.0.0.7");
        Endpoints.Resolver dns = host -> {
            lookups.incrementAndGet();
            if (!dnsUp.get()) {
                throw new UnknownHostException(host + ": NXDOMAIN");
            }
            return new InetAddress[]{intake};
        };
        try (Endpoints e = new Endpoints(List.of(Endpoints.Target.parse("intake.example:4317")), REFRESH, dns,
                EndpointsTest::unusedChannel, now::get)) {
            assertEquals(intake, e.next().address().getAddress());
            dnsUp.set(false);
            for (int i = 0; i < 1_000; i++) { // a reconnect storm's worth of dials within one refresh interval
                assertEquals(intake, e.next().address().getAddress());
            }
            assertEquals(1, lookups.get(), "no lookup before the refresh interval");
            now.addAndGet(REFRESH);
            assertEquals(intake, e.next().address().getAddress(), "last known good kept on NXDOMAIN");
            assertEquals(2, lookups.get());
            assertEquals(1, e.resolutionFailures());
            assertEquals(intake, e.next().address().getAddress());
            assertEquals(2, lookups.get(), "a failed refresh also waits a whole interval");
        }
    }

    @Test
    void aNameThatNeverResolvedGivesNoEndpointAndIsRetriedOnlyPerDial() {
        AtomicLong lookups = new AtomicLong();
        Endpoints.Resolver dns = host -> {
            lookups.incrementAndGet();
            throw new UnknownHostException(host);
        };
        try (Endpoints e = new Endpoints(List.of(Endpoints.Target.parse("nowhere.example:4317")), REFRESH, dns,
                EndpointsTest::unusedChannel, now::get)) {
            assertNull(e.next());
            assertNull(e.next());
            assertEquals(2, lookups.get(), "one lookup per dial, and the session paces dials with backoff");
        }
    }

    @Test
    void aFailedAddressIsSkippedInFavourOfTheNext() {
        try (Endpoints e = new Endpoints(Endpoints.Target.parseList("127.0.0.1:1,127.0.0.2:2"), REFRESH,
                host -> { throw new UnknownHostException(host); }, EndpointsTest::unusedChannel, now::get)) {
            Endpoints.Endpoint first = e.next();
            assertEquals(1, first.address().getPort());
            assertEquals(first, e.next(), "sticky while it works");
            e.failed(first);
            assertEquals(2, e.next().address().getPort());
            e.failed(e.next());
            assertEquals(1, e.next().address().getPort(), "and back");
            assertEquals(0, e.resolutions(), "IP literals never touch DNS");
        }
    }

    @Test
    void parsesTargetsWithPreciseErrors() {
        assertEquals(List.of(new Endpoints.Target("a", 1), new Endpoints.Target("::1", 4317)),
                Endpoints.Target.parseList("a:1, [::1]:4317"));
        assertEquals("\"a\" is not " + Endpoints.Target.SYNTAX,
                assertThrows(IllegalArgumentException.class, () -> Endpoints.Target.parse("a")).getMessage());
        assertEquals("port 70000 in \"a:70000\" is outside 1..65535",
                assertThrows(IllegalArgumentException.class, () -> Endpoints.Target.parse("a:70000")).getMessage());
    }
}
