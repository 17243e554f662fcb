package dev.holdfast.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.holdfast.config.ConfigText;
import dev.holdfast.config.LogSettings;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.util.List;

/**
 * Applies {@link LogSettings} to the process's one logging backend, Logback.
 *
 * <p>Every command applies the {@code --log-format} and {@code --log-level} flags before it runs; a command that reads
 * a config file ({@code intake}, {@code shipper}, {@code node}) applies that file's {@code log} section again, under
 * the same flags, once the file is read. {@code -Dlogback.configurationFile=FILE} replaces all of it.
 */
public final class Logging {
    static final String FORMAT_FLAG = "--log-format";
    static final String LEVEL_FLAG = "--log-level";
    /** OpenHFT Affinity's loggers: errors only (see {@link #configure}). */
    static final String AFFINITY_LOGGER = "net.openhft.affinity";

    private Logging() {}

    /** The flags as given at any level of the command line (null where not given). */
    record Flags(LogSettings.Format format, LogSettings.Level level) {
        static Flags of(ParseResult parsed) {
            LogSettings.Format format = null;
            LogSettings.Level level = null;
            for (ParseResult p = parsed; p != null; p = p.subcommand()) {
                if (p.hasMatchedOption(FORMAT_FLAG)) {
                    format = p.matchedOptionValue(FORMAT_FLAG, null);
                }
                if (p.hasMatchedOption(LEVEL_FLAG)) {
                    level = p.matchedOptionValue(LEVEL_FLAG, null);
                }
            }
            return new Flags(format, level);
        }

        /** The flags of the running command line, for a command that has its spec. */
        static Flags of(CommandLine.Model.CommandSpec spec) {
            ParseResult parsed = spec.root().commandLine().getParseResult();
            return parsed == null ? new Flags(null, null) : of(parsed);
        }

        LogSettings over(LogSettings settings) {
            return settings.withFlags(format, level);
        }
    }

    /** Reconfigures the backend; a no-op where another SLF4J backend is bound (tests of other modules). */
    static void apply(LogSettings settings) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)
                || System.getProperty("logback.configurationFile") != null) {
            return; // the operator's own Logback configuration file wins over the flags
        }
        context.reset();
        configure(context, settings);
    }

    /**
     * Everything to stderr (stdout carries each command's own output: the intake's "listening" line, wal dump's
     * records): ISO 8601 time, level, thread, logger and message as text, or Logstash's JSON lines, which log
     * pipelines (Vector, Fluent Bit, Elastic) read as they are. Built in code rather than read from a logback.xml:
     * Logback's XML configurator took 180 ms of every start, a tenth of the intake's restart budget.
     */
    private static void configure(LoggerContext context, LogSettings settings) {
        Encoder<ILoggingEvent> encoder;
        if (settings.format() == LogSettings.Format.JSON) {
            LogstashEncoder json = new LogstashEncoder();
            json.setIncludeContext(false);
            encoder = json;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger: %msg%n");
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(ch.qos.logback.classic.Level.toLevel(settings.level().name()));
        root.addAppender(console);
        // Kafka's broker (holdfast kafka, the embedded default) and every client log their whole configuration at
        // INFO when they start; their warnings and errors still show.
        for (String kafka : List.of("kafka", "org.apache.kafka", "state.change.logger")) {
            context.getLogger(kafka).setLevel(settings.level() == LogSettings.Level.ERROR
                    ? ch.qos.logback.classic.Level.ERROR : ch.qos.logback.classic.Level.WARN);
        }
        // Chronicle loads OpenHFT Affinity, which probes JNA for CPU pinning that Holdfast never uses. When JNA's
        // library fails to load (seen in CI: its freshly unpacked temporary file could not be loaded), Affinity says
        // so at WARN with a stack trace, into what should be a command's one line of output. Its errors still show.
        context.getLogger(AFFINITY_LOGGER).setLevel(ch.qos.logback.classic.Level.ERROR);
    }

    /** Logback's first configuration, found through META-INF/services: the defaults, until a command applies more. */
    public static final class Configurator extends ContextAwareBase implements ch.qos.logback.classic.spi.Configurator {
        @Override
        public ExecutionStatus configure(LoggerContext context) {
            Logging.configure(context, LogSettings.DEFAULTS);
            return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
        }
    }

    /** Completion candidates: the spellings the converters accept, not the enums' upper-case names. */
    static final class FormatNames extends java.util.ArrayList<String> {
        FormatNames() {
            super(List.of(LogSettings.Format.allowed().split("\\|")));
        }
    }

    static final class LevelNames extends java.util.ArrayList<String> {
        LevelNames() {
            super(List.of(LogSettings.Level.allowed().split("\\|")));
        }
    }

    /** picocli converters: the same exact lowercase spellings as the config files, with the same message. */
    static final class FormatConverter implements CommandLine.ITypeConverter<LogSettings.Format> {
        @Override
        public LogSettings.Format convert(String value) {
            return check(LogSettings.Format.parse(value), value, LogSettings.Format.allowed());
        }
    }

    static final class LevelConverter implements CommandLine.ITypeConverter<LogSettings.Level> {
        @Override
        public LogSettings.Level convert(String value) {
            return check(LogSettings.Level.parse(value), value, LogSettings.Level.allowed());
        }
    }

    private static <T> T check(T parsed, String value, String allowed) {
        if (parsed == null) {
            throw new CommandLine.TypeConversionException(ConfigText.quote(value) + " is not one of " + allowed);
        }
        return parsed;
    }
}
