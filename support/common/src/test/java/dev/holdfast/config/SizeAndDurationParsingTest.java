package dev.holdfast.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizeAndDurationParsingTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "1048576, 1048576",
        "4MiB, 4194304",
        "512KiB, 524288",
        "2GiB, 2147483648",
        "1TiB, 1099511627776",
        "64MB, 64000000",
        "1KB, 1000",
        "'4 MiB', 4194304",
        "4mib, 4194304",
        "1.5KiB, 1536",
        "10B, 10",
    })
    void parsesSizes(String text, long bytes) {
        assertEquals(OptionalLong.of(bytes), ByteSizes.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MiB", "4XB", "-1MiB", "0.5B", "1.3KB1", "99999999TiB", "4 M i B"})
    void rejectsNonSizes(String text) {
        assertTrue(ByteSizes.parse(text).isEmpty(), text);
    }

    @Test
    void formatsSizesInTheLargestExactBinaryUnit() {
        assertEquals("4MiB", ByteSizes.format(4L << 20));
        assertEquals("1536KiB", ByteSizes.format(1536L << 10));
        assertEquals("1000001B", ByteSizes.format(1_000_001));
        assertEquals("0B", ByteSizes.format(0));
    }

    @ParameterizedTest
    @CsvSource({
        "5ms, PT0.005S",
        "2s, PT2S",
        "500us, PT0.0005S",
        "250ns, PT0.00000025S",
        "3m, PT3M",
        "1h, PT1H",
        "'2 s', PT2S",
    })
    void parsesDurations(String text, Duration expected) {
        assertEquals(Optional.of(expected), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "5sec", "-5ms", "1.5s", "ms", "5MS"})
    void rejectsNonDurations(String text) {
        assertTrue(Durations.parse(text).isEmpty(), text);
    }

    @Test
    void bareIntegersInYamlAreMilliseconds() throws Exception {
        java.util.List<String> problems = new java.util.ArrayList<>();
        YamlSection wal = YamlSection.root(new com.fasterxml.jackson.dataformat.yaml.YAMLMapper()
                .readTree("wal: {retryAfter: 1500, groupCommitMaxDelay: \"3\"}\n"), problems).section("wal");
        assertEquals(Duration.ofMillis(1500), wal.duration("retryAfter", Duration.ZERO));
        assertEquals(Duration.ofMillis(3), wal.duration("groupCommitMaxDelay", Duration.ZERO));
        assertEquals(java.util.List.of(), problems);
    }

    @Test
    void formatsDurationsInTheCoarsestExactUnit() {
        assertEquals("2ms", Durations.format(Duration.ofMillis(2)));
        assertEquals("1s", Durations.format(Duration.ofSeconds(1)));
        assertEquals("500us", Durations.format(Duration.ofNanos(500_000)));
        assertEquals("0ms", Durations.format(Duration.ZERO));
        assertEquals("1500ms", Durations.format(Duration.ofMillis(1500)));
    }
}
