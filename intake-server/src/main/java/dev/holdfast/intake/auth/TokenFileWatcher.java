package dev.holdfast.intake.auth;

import dev.holdfast.config.InvalidConfigException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The token file, reloaded when its content changes (polled, compared by hash: modification times miss an edit
 * within the same second and a file replaced by a rename). A new file that cannot be used leaves the last good one
 * in force, with one WARN line naming file and line and a metric, so a bad push never locks every agent out.
 */
public final class TokenFileWatcher implements Supplier<Tokens>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TokenFileWatcher.class);

    private final Path file;
    private final Clock clock;
    private final Counter failures;
    private volatile Tokens current;
    private volatile long loadedAtMillis;
    /** The content last looked at, good or bad: a bad file is reported once, not at every poll. */
    private byte[] lastSeen;
    private ScheduledFuture<?> polling;

    /**
     * Loads the file now: a file that cannot be used at start is the operator's to fix, reported as a config problem.
     */
    public TokenFileWatcher(Path file, MeterRegistry registry, Clock clock) {
        this.file = file;
        this.clock = clock;
        byte[] content;
        try {
            content = Files.readAllBytes(file);
            current = Tokens.parse(file.toString(), new String(content, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new InvalidConfigException(List.of("auth.tokens: " + file + ": cannot read: " + e));
        } catch (Tokens.InvalidException e) {
            throw new InvalidConfigException(List.of("auth.tokens: " + e.getMessage()));
        }
        lastSeen = sha256(content);
        loadedAtMillis = clock.millis();
        failures = Counter.builder("auth.tokens.reload.failures")
                .description("Token file changes that could not be used (the previous tokens stay in force)")
                .register(registry);
        Gauge.builder("auth.tokens.entries", this, w -> w.current.size())
                .description("Tokens in force").register(registry);
        Gauge.builder("auth.tokens.loaded.timestamp", this, w -> w.loadedAtMillis / 1000.0)
                .description("When the tokens in force were loaded (Unix seconds)").register(registry);
    }

    @Override
    public Tokens get() {
        return current;
    }

    /** Polls every {@code interval} on the given scheduler (its owner shuts it down). */
    public synchronized TokenFileWatcher start(ScheduledExecutorService scheduler, Duration interval) {
        polling = scheduler.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads the file and, when its content changed, takes it if it is usable. @return whether new tokens were taken */
    public synchronized boolean check() {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            byte[] marker = new byte[0]; // report an unreadable file once, until it is readable again
            if (lastSeen.length != 0) {
                failures.increment();
                log.warn("auth.tokens: {}: cannot read ({}); keeping the previous {} tokens", file, e, current.size());
            }
            lastSeen = marker;
            return false;
        }
        byte[] hash = sha256(content);
        if (MessageDigest.isEqual(hash, lastSeen)) {
            return false;
        }
        lastSeen = hash;
        try {
            current = Tokens.parse(file.toString(), new String(content, StandardCharsets.UTF_8));
        } catch (Tokens.InvalidException e) {
            failures.increment();
            log.warn("auth.tokens: {}; keeping the previous {} tokens", e.getMessage(), current.size());
            return false;
        }
        loadedAtMillis = clock.millis();
        log.info("auth.tokens: {}: loaded {} tokens", file, current.size());
        return true;
    }

    @Override
    public synchronized void close() {
        if (polling != null) {
            polling.cancel(false);
        }
    }

    private static byte[] sha256(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
