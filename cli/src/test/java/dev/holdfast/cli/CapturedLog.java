package dev.holdfast.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What the code under test logs (through the cli's Logback), as text: one line per event, "LEVEL logger: message".
 * Attached to the root logger from {@link #capture()} until {@link #close()}; as a field with {@code @RegisterExtension},
 * closed after each test.
 */
public final class CapturedLog extends AppenderBase<ILoggingEvent> implements AutoCloseable, AfterEachCallback {
    private final StringBuffer text = new StringBuffer();

    private CapturedLog() {}

    public static CapturedLog capture() {
        CapturedLog log = new CapturedLog();
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        log.setContext(context);
        log.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(log);
        return log;
    }

    @Override
    protected void append(ILoggingEvent e) {
        text.append(e.getLevel()).append(' ').append(e.getLoggerName()).append(": ").append(e.getFormattedMessage())
                .append('\n');
    }

    public String text() {
        return text.toString();
    }

    @Override
    public void close() {
        ((LoggerContext) getContext()).getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
        stop();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public String toString() {
        return text();
    }
}
