package dev.holdfast.intake;

import com.google.protobuf.ByteString;
import dev.holdfast.forwarder.ForwardLimit;
import dev.holdfast.forwarder.ValueEncoding;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The intake's door: {@link BatchValidator} with an {@link EventSizeLimit} refuses, before anything is written, an
 * event Kafka could never take, and says which setting decides.
 */
class EventSizeLimitTest {
    private static final String NODE = "node-1";
    private static final String TOPIC = "holdfast.events";
    private static final BatchValidator.Limits LIMITS = new BatchValidator.Limits(8 << 20, 10_000, 4096);

    private static ForwardLimit defaultForwarder() {
        return new ForwardLimit(Map.of(), NODE, TOPIC, ValueEncoding.PROTOBUF);
    }

    /** A forwarder's limit with the defaults, and the intake's limit that defers to it (0: no limit of its own). */
    private final ForwardLimit forward = defaultForwarder();
    private final EventSizeLimit limit = new EventSizeLimit(0, forward);

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** An event whose protobuf encoding is exactly {@code size} bytes. */
    static Event eventOfSize(int size) {
        int pad = size;
        for (int i = 0; i < 8; i++) {
            Event e = Event.newBuilder().setTimeUnixNano(1).setOpaque(ByteString.copyFrom(new byte[Math.max(0, pad)]))
                    .build();
            int diff = size - e.getSerializedSize();
            if (diff == 0) {
                return e;
            }
            pad += diff;
        }
        throw new IllegalArgumentException("no event of exactly " + size + " bytes");
    }

    private static byte[] batch(String agent, Event... events) {
        EventBatch.Builder b = EventBatch.newBuilder().setAgentId(agent).setBatchSeq(1);
        // a small event first: the refusal must name the event by its place in the batch
        b.addEvents(eventOfSize(100));
        for (Event e : events) {
            b.addEvents(e);
        }
        return b.build().toByteArray();
    }

    private static BatchValidator.Result validate(EventSizeLimit limit, String agent, int eventBytes) {
        return new BatchValidator(LIMITS, limit).validate(batch(agent, eventOfSize(eventBytes)), 1, null);
    }

    private static String invalid(BatchValidator.Result r) {
        return assertInstanceOf(BatchValidator.Invalid.class, r).message();
    }

    @Test
    void theProducersMaxRequestSizeDecidesByDefault() {
        String agent = "agent-1";
        int max = forward.maxEventBytes(bytes(agent));
        assertTrue(max < ForwardLimit.DEFAULT_MAX_REQUEST_SIZE && max > ForwardLimit.DEFAULT_MAX_REQUEST_SIZE - 4096,
                "room for the record's headers, no more: " + max);

        assertInstanceOf(BatchValidator.Valid.class, validate(limit, agent, max));
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, agent, max - 1));
        String message = invalid(validate(limit, agent, max + 1));
        assertEquals("event 1 is " + (max + 1) + " bytes, more than Kafka will take: at most " + max + " bytes "
                + "(forwarder.producer max.request.size=1048576, minus record headers); nothing of this batch was "
                + "written", message);
    }

    @Test
    void aLongerAgentIdLeavesLessRoom() {
        String shortId = "a";
        String longId = "a".repeat(1001);
        int forShort = forward.maxEventBytes(bytes(shortId));
        int forLong = forward.maxEventBytes(bytes(longId));
        assertEquals(3 * 1000, forShort - forLong, "the agent id rides in the key, a header and the event id");

        assertInstanceOf(BatchValidator.Valid.class, validate(limit, shortId, forShort));
        String message = invalid(validate(limit, longId, forShort));
        assertTrue(message.contains("at most " + forLong + " bytes"), message);
        assertTrue(message.contains("max.request.size=1048576"), message);
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, longId, forLong));
    }

    @Test
    void aTopicsMaxMessageBytesTightensTheLimitOnceKnown() {
        String agent = "agent-1";
        int before = forward.maxEventBytes(bytes(agent));
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, agent, 300_000));

        forward.topicMaxMessageBytes(200_000); // what the forwarder learns from Kafka while the intake runs
        int max = forward.maxEventBytes(bytes(agent));
        assertTrue(max < 200_000 && max > 190_000, "the topic's limit less headers and compression's growth: " + max);
        assertTrue(max < before);
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, agent, max));
        String message = invalid(validate(limit, agent, 300_000));
        assertTrue(message.contains("at most " + max + " bytes"), message);
        assertTrue(message.contains("topic holdfast.events max.message.bytes=200000"), message);
        assertTrue(message.contains("forwarder.topicSettings.maxMessageBytes"), message);
        assertEquals(message, invalid(validate(limit, agent, max + 1)).replace(" " + (max + 1) + " bytes",
                " 300000 bytes"));
    }

    @Test
    void kafkasDefaultTopicLimitIsNamedWhenItIsTheOneThatBinds() {
        int producerOnly = forward.maxEventBytes(7);
        forward.topicMaxMessageBytes(1_048_588); // Kafka's default message.max.bytes, just above max.request.size
        int max = forward.maxEventBytes(7);
        assertTrue(max < producerOnly, "compression's worst case makes the topic the tighter limit");
        String message = invalid(validate(limit, "agent-1", max + 1));
        assertTrue(message.contains("topic holdfast.events max.message.bytes=1048588"),
                "raising max.request.size alone would change nothing, so the topic must be named: " + message);

        ForwardLimit bigRequests = new ForwardLimit(Map.of("max.request.size", "2097152"), NODE, TOPIC,
                ValueEncoding.PROTOBUF);
        bigRequests.topicMaxMessageBytes(4 << 20);
        String producerBinds = invalid(validate(new EventSizeLimit(0, bigRequests), "agent-1",
                bigRequests.maxEventBytes(7) + 1));
        assertFalse(producerBinds.contains("max.message.bytes"), producerBinds);
        assertTrue(producerBinds.contains("max.request.size=2097152"), producerBinds);
    }

    @Test
    void limitsMaxEventBytesIsNamedWhenItDecides() {
        EventSizeLimit limit = new EventSizeLimit(10_000, defaultForwarder());
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, "agent-1", 10_000));
        assertEquals("event 1 is 10001 bytes, over the limit of 10000 bytes (limits.maxEventBytes); nothing of this "
                + "batch was written", invalid(validate(limit, "agent-1", 10_001)));

        EventSizeLimit withoutForwarding = new EventSizeLimit(10_000, null);
        assertTrue(invalid(validate(withoutForwarding, "agent-1", 10_001)).contains("(limits.maxEventBytes)"));
    }

    @Test
    void theJsonEncodingDividesTheLimit() {
        String agent = "agent-1";
        ForwardLimit protobuf = defaultForwarder();
        ForwardLimit json = new ForwardLimit(Map.of(), NODE, TOPIC, ValueEncoding.JSON);
        int max = json.maxEventBytes(bytes(agent));
        assertEquals(protobuf.maxEventBytes(bytes(agent)) / 6, max);

        EventSizeLimit limit = new EventSizeLimit(0, json);
        assertInstanceOf(BatchValidator.Valid.class, validate(limit, agent, max));
        String message = invalid(validate(limit, agent, max + 1));
        assertTrue(message.contains("at most " + max + " bytes"), message);
        assertTrue(message.contains("max.request.size=1048576"), message);
        assertTrue(message.contains("divided by 6 for the json encoding"), message);
    }

    @Test
    void withoutForwardingOrALimitOnlyTheBatchLimitApplies() {
        assertInstanceOf(BatchValidator.Valid.class, validate(EventSizeLimit.NONE, "agent-1", 3 << 20));
        assertInstanceOf(BatchValidator.Valid.class, new BatchValidator(LIMITS)
                .validate(batch("agent-1", eventOfSize(3 << 20)), 1, null));
    }
}
