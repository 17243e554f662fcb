package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Priority;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchEncoderTest {

    private static final EventPool POOL = EventPool.build(7, 200, Priority.CRITICAL, 1);

    @Test
    void handEncodedBatchIsByteIdenticalToGeneratedCode() throws Exception {
        BatchEncoder encoder = new BatchEncoder(POOL, 5);
        // offsets wrapping the pool, a non-ASCII agent id and a seq needing a 9-byte varint
        String[] agents = {"bench-0", "agënt-☃", "a".repeat(300)};
        long[] seqs = {1, 127, 128, 300_000, Long.MAX_VALUE};
        int[] offsets = {0, 3, 6, 12345, -1};
        for (String agent : agents) {
            for (int i = 0; i < seqs.length; i++) {
                BatchEncoder.EncodedBatch encoded = encoder.encode(agent, seqs[i], offsets[i]);
                AgentMessage expected = generated(agent, seqs[i], offsets[i], 5);
                assertArrayEquals(expected.toByteArray(), encoded.wireBytes(), agent + "/" + seqs[i]);
                assertEquals(expected, AgentMessage.parseFrom(encoded.wireBytes()));
                assertEquals(5, encoded.events());
                long payload = expected.getBatch().getEventsList().stream().mapToLong(Event::getSerializedSize).sum();
                assertEquals(payload, encoded.payloadBytes());
            }
        }
    }

    @Test
    void aBatchLongerThanThePoolGoesRoundItAgain() throws Exception {
        for (int events : new int[]{7, 8, 20}) {
            for (int offset : new int[]{0, 1, 6, 13}) {
                BatchEncoder.EncodedBatch encoded = new BatchEncoder(POOL, events).encode("bench-1", 9, offset);
                AgentMessage expected = generated("bench-1", 9, offset, events);
                assertArrayEquals(expected.toByteArray(), encoded.wireBytes(), events + " events from " + offset);
                long payload = expected.getBatch().getEventsList().stream().mapToLong(Event::getSerializedSize).sum();
                assertEquals(payload, encoded.payloadBytes());
            }
        }
    }

    @Test
    void defaultValuedFieldsAreOmittedLikeProto3() throws Exception {
        BatchEncoder.EncodedBatch encoded = new BatchEncoder(POOL, 1).encode("", 0, 2);
        assertArrayEquals(generated("", 0, 2, 1).toByteArray(), encoded.wireBytes());
    }

    @Test
    void eventsArePaddedToTheTargetSize() throws Exception {
        for (int target : new int[]{EventPool.minimumEventBytes(), EventPool.minimumEventBytes() + 5, 100, 200, 1000, 20_000}) {
            EventPool pool = EventPool.build(32, target, Priority.BULK, 2);
            for (int i = 0; i < pool.size(); i++) {
                Event event = Event.parseFrom(pool.event(i));
                int size = pool.event(i).length;
                assertTrue(size <= target && size >= target - 3, "size " + size + " for target " + target);
                assertEquals(Priority.BULK, event.getPriority());
                assertTrue(event.hasFile() && !event.getFile().getPath().isEmpty());
            }
        }
    }

    @Test
    void rejectsEmptyBatches() {
        assertThrows(IllegalArgumentException.class, () -> new BatchEncoder(POOL, 0));
    }

    private static AgentMessage generated(String agent, long seq, int offset, int count) throws Exception {
        EventBatch.Builder batch = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(seq);
        for (int i = 0; i < count; i++) {
            batch.addEvents(Event.parseFrom(POOL.event(Math.floorMod(offset + i, POOL.size()))));
        }
        return AgentMessage.newBuilder().setBatch(batch).build();
    }
}
