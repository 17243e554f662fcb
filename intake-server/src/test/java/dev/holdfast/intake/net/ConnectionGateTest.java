package dev.holdfast.intake.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The gate's arithmetic; the real sockets are in ConnectionLimitsTest. Free descriptors come from a probe we set. */
class ConnectionGateTest {
    private final AtomicLong freeFds = new AtomicLong(1_000);
    private final List<String> refused = new ArrayList<>();

    private ConnectionGate gate(int max, int perAddress, int reserve) {
        return new ConnectionGate("grpc", new ConnectionGate.Limits(max, perAddress, reserve), freeFds::get,
                (r, remote) -> refused.add(r.tag() + " " + remote.getHostAddress()));
    }

    @Test
    void countsPerAddressAndInTotalAndGivesPlacesBack() throws Exception {
        ConnectionGate g = gate(3, 2, 0);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.2");
        assertNull(g.admit(a));
        assertNull(g.admit(a));
        assertEquals(ConnectionGate.Refusal.PER_ADDRESS, g.admit(a));
        assertNull(g.admit(b));
        assertEquals(ConnectionGate.Refusal.TOTAL, g.admit(b));
        assertEquals(3, g.open());
        g.release(a);
        assertNull(g.admit(b), "a released place is free again");
        assertEquals(ConnectionGate.Refusal.TOTAL, g.admit(InetAddress.getByName("10.0.0.3")));
        assertEquals(List.of("per_address 10.0.0.1", "total 10.0.0.2", "total 10.0.0.3"), refused);
    }

    @Test
    void refusesWhileFewerDescriptorsThanTheReserveAreFree() throws Exception {
        ConnectionGate g = gate(100, 100, 64);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        freeFds.set(64);
        assertNull(g.admit(a));
        freeFds.set(63);
        assertEquals(ConnectionGate.Refusal.FD_RESERVE, g.admit(a));
        assertEquals(1, g.open(), "a refused connection is not counted");
        freeFds.set(500);
        assertNull(g.admit(a));
    }
}
