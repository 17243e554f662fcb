package dev.holdfast.intake.config;

import dev.holdfast.config.InvalidConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forwarder's new settings and the rule that the intake must not be configured to acknowledge an event Kafka
 * would refuse ({@code limits.maxEventBytes} against {@code max.request.size} and the topic's settings).
 */
class ForwardableConfigTest {
    private static final Function<String, String> NO_ENV = name -> null;

    @TempDir
    Path tmp;

    private IntakeConfig load(String yaml) throws IOException {
        return IntakeConfig.load(Files.writeString(Files.createTempFile(tmp, "holdfast", ".yaml"), yaml),
                Overrides.NONE, NO_ENV);
    }

    private List<String> problems(String yaml) {
        return assertThrows(InvalidConfigException.class, () -> load(yaml)).problems();
    }

    private static void assertOneProblem(List<String> problems, String... parts) {
        assertEquals(1, problems.size(), problems.toString());
        for (String part : parts) {
            assertTrue(problems.get(0).contains(part), "'" + part + "' in " + problems.get(0));
        }
    }

    @Test
    void aMaxEventBytesAboveWhatTheDefaultProducerSendsIsRefusedNamingBothKeys() {
        List<String> p = problems("nodeId: n1\nlimits:\n  maxEventBytes: 2MiB\n");
        assertOneProblem(p, "limits.maxEventBytes: 2MiB is more than Kafka would take", "max.request.size=1048576",
                "limits.maxAgentIdBytes=256");
        assertTrue(p.get(0).startsWith("limits.maxEventBytes: "), p.get(0));
    }

    @Test
    void aLargerMaxRequestSizeMakesRoomForIt() throws Exception {
        IntakeConfig c = load("limits:\n  maxEventBytes: 2MiB\nforwarder:\n  producer: {max.request.size: \"4194304\"}\n");
        assertEquals(2L << 20, c.limits().maxEventBytes());
        assertEquals(Map.of("max.request.size", "4194304"), c.forwarder().producer());
    }

    @Test
    void aTopicMaxMessageBytesBelowItIsRefusedNamingTheTopicSetting() {
        List<String> p = problems("limits:\n  maxEventBytes: 2MiB\nforwarder:\n"
                + "  producer: {max.request.size: \"4194304\"}\n  topicSettings:\n    maxMessageBytes: 1MiB\n");
        assertOneProblem(p, "limits.maxEventBytes", "max.message.bytes=1048576",
                "forwarder.topicSettings.maxMessageBytes");
    }

    @Test
    void aMaxRequestSizeThatIsNotANumberIsNamed() {
        assertOneProblem(problems("forwarder:\n  producer: {max.request.size: \"abc\"}\n"),
                "forwarder.producer.max.request.size", "\"abc\"", "not a positive number of bytes");
        assertOneProblem(problems("forwarder:\n  producer: {max.request.size: \"-5\"}\n"),
                "forwarder.producer.max.request.size");
    }

    @Test
    void aMaxRequestSizeTooSmallForAnyEventIsNamed() {
        assertOneProblem(problems("forwarder:\n  producer: {max.request.size: \"1000\"}\n"),
                "forwarder.producer.max.request.size: Kafka would take events of at most 0 bytes");
    }

    @Test
    void anUnknownEncodingIsNamedWithTheAllowedValues() {
        assertOneProblem(problems("forwarder:\n  encoding: avro\n"),
                "forwarder.encoding: \"avro\" is not one of protobuf|json");
    }

    @Test
    void theJsonEncodingIsAcceptedAndShrinksWhatFits() throws Exception {
        assertEquals("json", load("forwarder:\n  encoding: json\n").forwarder().encoding());
        assertOneProblem(problems("limits:\n  maxEventBytes: 512KiB\nforwarder:\n  encoding: json\n"),
                "limits.maxEventBytes", "divided by 6 for the json encoding");
    }

    @Test
    void theDeadLetterTopicMustNotBeTheTopic() throws Exception {
        assertOneProblem(problems("forwarder:\n  topic: events\n  deadLetterTopic: events\n"),
                "forwarder.deadLetterTopic: \"events\" is the topic itself");
        assertOneProblem(problems("forwarder:\n  deadLetterTopic: 'no spaces'\n"), "forwarder.deadLetterTopic");
        IntakeConfig c = load("forwarder:\n  topic: events\n");
        assertEquals("events.dlq", c.forwarder().deadLetterTopicName());
        assertEquals("refused", load("forwarder:\n  topic: events\n  deadLetterTopic: refused\n").forwarder()
                .deadLetterTopicName());
    }

    @Test
    void minInsyncReplicasAboveTheReplicationFactorIsRefused() throws Exception {
        assertOneProblem(problems("forwarder:\n  topicSettings:\n    replicationFactor: 2\n    minInsyncReplicas: 3\n"),
                "forwarder.topicSettings.minInsyncReplicas: 3 is more than the replication factor 2");
        IntakeConfig.TopicSettings t = load("forwarder:\n  topicSettings:\n    partitions: 6\n    replicationFactor: 3\n"
                + "    minInsyncReplicas: 2\n    maxMessageBytes: 2MiB\n").forwarder().topicSettings();
        assertEquals(new IntakeConfig.TopicSettings(6, 3, 2, 2L << 20), t);
    }

    @Test
    void withoutForwardingALargeMaxEventBytesIsFine() throws Exception {
        assertEquals(3L << 20, load("limits:\n  maxEventBytes: 3MiB\nforwarder:\n  enabled: false\n")
                .limits().maxEventBytes());
        assertEquals(3L << 20, load("limits:\n  maxEventBytes: 3MiB\nforwarder:\n  kafka: none\n")
                .limits().maxEventBytes());
        assertEquals(3L << 20, load("limits:\n  maxEventBytes: 3MiB\nforwarder:\n  kafka: none\n"
                + "  producer: {max.request.size: \"abc\"}\n").limits().maxEventBytes(),
                "producer settings of a forwarder that never starts are not checked against the limit");
    }

    @Test
    void maxEventBytesCannotExceedTheBatchLimit() {
        assertOneProblem(problems("limits:\n  maxEventBytes: 5MiB\nforwarder:\n  kafka: none\n"),
                "limits.maxEventBytes");
    }
}
