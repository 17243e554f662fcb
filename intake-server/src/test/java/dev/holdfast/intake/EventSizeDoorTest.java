package dev.holdfast.intake;

import com.google.protobuf.ByteString;
import dev.holdfast.intake.config.Durability;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The door over real gRPC: an intake that forwards (to a Kafka that is not there: the door needs no broker to
 * know the producer's limit) answers a batch holding an event Kafka could never take INVALID and writes nothing of
 * it, and goes on persisting ordinary batches.
 */
class EventSizeDoorTest {
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private long walRecords() throws Exception {
        long[] n = {0};
        try (WalInspector w = WalInspector.open(IntakeServer.walDir(tmp.resolve("data")))) {
            w.forEach(null, null, e -> {
                assertTrue(e instanceof WalReader.Valid, e.toString());
                n[0]++;
            });
        }
        return n[0];
    }

    @Test
    void anEventKafkaCouldNeverTakeIsRefusedAtTheDoorAndNothingIsWritten() throws Exception {
        IntakeConfig d = IntakeConfig.defaults();
        IntakeConfig cfg = new IntakeConfig("test-node", tmp.resolve("data"), Durability.FSYNC,
                new IntakeConfig.Endpoint("127.0.0.1", 0), new IntakeConfig.Endpoint("127.0.0.1", 0),
                d.limits(), d.wal(), d.forwarder().withKafka("127.0.0.1:1", "holdfast.events"));
        assertTrue(cfg.forwarder().active());
        IntakeServer server = new IntakeServer(cfg, IntakeServer.newRegistry()).start();
        open.add(server);
        TestClient client = new TestClient(server.grpcPort());
        open.add(client);
        TestClient.Stream s = client.stream();
        s.hello("agent-big");

        EventBatch big = EventBatch.newBuilder().setAgentId("agent-big").setBatchSeq(1)
                .addEvents(Event.newBuilder().setTimeUnixNano(1).setPriority(Priority.CRITICAL)
                        .setOpaque(ByteString.copyFrom(new byte[2 << 20])))
                .build();
        s.send(big);
        BatchAck refused = s.next().getAck();
        assertEquals(BatchAck.Status.INVALID, refused.getStatus(), refused.toString());
        assertEquals(1, refused.getBatchSeq());
        assertTrue(refused.getMessage().startsWith("event 0 is " + big.getEvents(0).getSerializedSize()
                + " bytes, more than Kafka will take: at most "), refused.getMessage());
        assertTrue(refused.getMessage().contains("max.request.size=1048576"), refused.getMessage());
        assertTrue(refused.getMessage().endsWith("nothing of this batch was written"), refused.getMessage());
        assertEquals(0, walRecords(), "nothing of a refused batch reaches the WAL");

        s.send(TestClient.batch("agent-big", 2, 5, Priority.NORMAL, 100));
        BatchAck ok = s.next().getAck();
        assertEquals(BatchAck.Status.PERSISTED, ok.getStatus(), ok.toString());
        assertEquals(2, ok.getBatchSeq());
        assertEquals(1, walRecords());
    }
}
