package dev.holdfast.intake.auth;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.config.ReloadedFiles;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The token file, reloaded when its content changes ({@link ReloadedFiles}: polled, compared by hash). A new file
 * that cannot be used leaves the last good one in force, with one WARN line naming file and line and a metric, so a
 * bad push never locks every agent out.
 */
public final class TokenFileWatcher implements Supplier<Tokens>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TokenFileWatcher.class);

    private final ReloadedFiles<Tokens> file;
    private final Clock clock;
    private final Counter failures;
    private volatile long loadedAtMillis;
    private ScheduledFuture<?> polling;

    /**
     * Loads the file now: a file that cannot be used at start is the operator's to fix, reported as a config problem.
     */
    public TokenFileWatcher(Path path, MeterRegistry registry, Clock clock) {
        this.clock = clock;
        try {
            file = ReloadedFiles.load(List.of(path), c -> Tokens.parse(path.toString(),
                    new String(c[0], StandardCharsets.UTF_8)));
        } catch (ReloadedFiles.UnreadableFileException e) {
            throw new InvalidConfigException(List.of("auth.tokens: " + e.getMessage()));
        } catch (Tokens.InvalidException e) {
            throw new InvalidConfigException(List.of("auth.tokens: " + e.getMessage()));
        } catch (Exception e) {
            throw new IllegalStateException("reading " + path + " failed: " + e, e); // a bug: parse throws the above
        }
        loadedAtMillis = clock.millis();
        failures = Counter.builder("auth.tokens.reload.failures")
                .description("Token file changes that could not be used (the previous tokens stay in force)")
                .register(registry);
        Gauge.builder("auth.tokens.entries", this, w -> w.get().size())
                .description("Tokens in force").register(registry);
        Gauge.builder("auth.tokens.loaded.timestamp", this, w -> w.loadedAtMillis / 1000.0)
                .description("When the tokens in force were loaded (Unix seconds)").register(registry);
    }

    @Override
    public Tokens get() {
        return file.value();
    }

    /** Polls every {@code interval} on the given scheduler (its owner shuts it down). */
    public synchronized TokenFileWatcher start(ScheduledExecutorService scheduler, Duration interval) {
        polling = scheduler.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads the file and, when its content changed, takes it if it is usable. @return whether new tokens were taken */
    public boolean check() {
        ReloadedFiles.Check<Tokens> c = file.check();
        if (c instanceof ReloadedFiles.Refused<Tokens> refused) {
            failures.increment();
            log.warn("auth.tokens: {}; keeping the previous {} tokens", refused.cause().getMessage(), get().size());
            return false;
        }
        if (c instanceof ReloadedFiles.Loaded<Tokens> loaded) {
            loadedAtMillis = clock.millis();
            log.info("auth.tokens: {}: loaded {} tokens", file.paths().get(0), loaded.value().size());
            return true;
        }
        return false;
    }

    @Override
    public synchronized void close() {
        if (polling != null) {
            polling.cancel(false);
        }
    }
}
