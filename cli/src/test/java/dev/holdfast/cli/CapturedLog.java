package dev.holdfast.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What the code under test logs (through the cli's Logback), as text: one line per event, "LEVEL logger: message";
 * with what it printed to {@link #out()} (a command's own output, such as the load generator's progress) first.
 * Attached to the root logger from {@link #capture()} until {@link #close()}; as a field with {@code @RegisterExtension},
 * closed after each test.
 */
public final class CapturedLog extends AppenderBase<ILoggingEvent> implements AutoCloseable, AfterEachCallback {
    private final StringBuffer text = new StringBuffer();
    private final java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    private final java.io.PrintStream out = new java.io.PrintStream(printed, true,
            java.nio.charset.StandardCharsets.UTF_8);

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

    /** Where the code under test prints what is not a log line; part of {@link #text()}. */
    public java.io.PrintStream out() {
        return out;
    }

    public String text() {
        return printed.toString(java.nio.charset.StandardCharsets.UTF_8) + text;
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
