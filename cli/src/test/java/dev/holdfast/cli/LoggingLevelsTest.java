package dev.holdfast.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.holdfast.config.LogSettings;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LoggingLevelsTest {
    @Test
    void affinitysWarningAboutJnaIsKeptOutOfTheOutputAtEveryLevel() {
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        for (LogSettings.Level level : LogSettings.Level.values()) {
            Logging.apply(new LogSettings(LogSettings.Format.TEXT, level));
            // Holdfast never pins threads: a failed JNA probe for it is not worth a line in a command's output
            assertEquals(Level.ERROR, context.getLogger("net.openhft.affinity.Affinity").getEffectiveLevel(),
                    level.name());
        }
        Logging.apply(LogSettings.DEFAULTS);
    }
}
