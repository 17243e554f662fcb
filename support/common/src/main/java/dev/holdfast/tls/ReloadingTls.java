package dev.holdfast.tls;

import dev.holdfast.config.ReloadedFiles;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key and trust managers of one TLS endpoint, kept in step with their PEM files: {@link #checkNow()} (run every
 * few seconds by {@link #watch}) re-reads the files and, when their content changed, swaps the new material in for new
 * handshakes. Connections already established keep theirs.
 *
 * <p>Files are compared by content hash ({@link ReloadedFiles}, as for every file re-read at run time). A certificate
 * and its key are loaded together, so a half-finished rotation (new certificate, old
 * key) is refused and retried when the other file changes. A file that cannot be used keeps the last good material,
 * logs one WARN line naming it and why, and tells the {@link TlsListener}, once per new content.
 */
public final class ReloadingTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReloadingTls.class);

    private final TlsFiles files;
    private final ReloadingKeyManager keyManager;
    private final ReloadingTrustManager trustManager;
    private final List<Watched<?>> watched;
    private volatile ScheduledFuture<?> polling;
    private final List<Runnable> onReload = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ScheduledExecutorService ownThread;

    private ReloadingTls(TlsFiles files, Clock clock, TlsListener listener) {
        this.files = files;
        Watched<KeyMaterial> keys = null;
        Watched<javax.net.ssl.X509ExtendedTrustManager> trust = null;
        if (files.hasKeyPair()) {
            keys = new Watched<>(List.of(files.cert(), files.key()),
                    c -> KeyMaterial.parse(files.cert(), c[0], files.key(), c[1], clock.instant()),
                    m -> {
                        keyManager().update(m);
                        onReload.forEach(Runnable::run);
                        listener.certificateReloaded(m.leaf());
                        log.info("TLS: now presenting {} (subject {}, valid until {})", files.cert(),
                                m.leaf().getSubjectX500Principal().getName(), m.leaf().getNotAfter().toInstant());
                    }, listener);
        }
        if (files.ca() != null) {
            trust = new Watched<>(List.of(files.ca()), c -> ReloadingTrustManager.parse(files.ca(), c[0]),
                    t -> {
                        trustManager().update(t);
                        onReload.forEach(Runnable::run);
                        listener.trustReloaded();
                        log.info("TLS: now trusting the CA bundle {}", files.ca());
                    }, listener);
        }
        this.keyManager = keys == null ? null : new ReloadingKeyManager(keys.loadFirst());
        this.trustManager = trust == null ? null : new ReloadingTrustManager(trust.loadFirst());
        this.watched = java.util.stream.Stream.of(keys, trust).filter(Objects::nonNull)
                .<Watched<?>>map(w -> w).toList();
    }

    /**
     * Loads every file; at start there is no last good material to fall back on, so a bad file is an error.
     *
     * @throws TlsFileException naming the file and why it cannot be used
     */
    public static ReloadingTls load(TlsFiles files, Clock clock, TlsListener listener) {
        return new ReloadingTls(Objects.requireNonNull(files, "files"), Objects.requireNonNull(clock, "clock"),
                Objects.requireNonNull(listener, "listener"));
    }

    public TlsFiles files() {
        return files;
    }

    /** The certificate and key presented; {@code null} when no key pair is configured (a client without one). */
    public ReloadingKeyManager keyManager() {
        return keyManager;
    }

    /** Trust in the configured CA bundle; {@code null} when none is configured. */
    public ReloadingTrustManager trustManager() {
        return trustManager;
    }

    /** Runs {@code action} after each reload that took effect (e.g. to forget cached TLS sessions). */
    public void onReload(Runnable action) {
        onReload.add(Objects.requireNonNull(action, "action"));
    }

    /** Re-reads the files and swaps in what changed and is good. */
    public void checkNow() {
        for (Watched<?> w : watched) {
            w.check();
        }
    }

    /** Runs {@link #checkNow()} every {@code interval} on {@code scheduler} until {@link #close()}. */
    public synchronized void watch(ScheduledExecutorService scheduler, Duration interval) {
        if (polling != null) {
            throw new IllegalStateException("already watching " + files.all());
        }
        polling = scheduler.scheduleWithFixedDelay(() -> {
            try {
                checkNow();
            } catch (RuntimeException e) {
                // a scheduled task that throws is never run again; reloading must outlive any surprise
                log.warn("TLS: checking {} failed: {}", files.all(), e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * {@link #watch} on a daemon thread of its own, stopped by {@link #close()}: for clients (shipper, bench), which
     * have no scheduler to share. Daemon, because how long the process lives is not the watcher's decision.
     */
    public synchronized ReloadingTls watchOnOwnThread(Duration interval) {
        ownThread = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "holdfast-tls-reload");
            t.setDaemon(true);
            return t;
        });
        watch(ownThread, interval);
        return this;
    }

    /** Stops watching; the managers keep working with what they hold. */
    @Override
    public synchronized void close() {
        if (polling != null) {
            polling.cancel(false);
        }
        if (ownThread != null) {
            ownThread.shutdownNow();
        }
    }

    /** Files loaded together into one value ({@link ReloadedFiles}), and what to do with a new one. */
    private static final class Watched<T> {
        private final ReloadedFiles<T> files;
        private final Consumer<T> apply;
        private final TlsListener listener;

        Watched(List<Path> paths, ReloadedFiles.Parser<T> parse, Consumer<T> apply, TlsListener listener) {
            try {
                this.files = ReloadedFiles.load(paths, parse);
            } catch (ReloadedFiles.UnreadableFileException e) {
                throw new TlsFileException(e.file(), e.reason(), e);
            } catch (TlsFileException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("parsing " + paths + " failed: " + e, e); // parsers throw TlsFileException
            }
            this.apply = apply;
            this.listener = listener;
        }

        T loadFirst() {
            return files.value();
        }

        void check() {
            ReloadedFiles.Check<T> c = files.check();
            if (c instanceof ReloadedFiles.Loaded<T> loaded) {
                apply.accept(loaded.value());
            } else if (c instanceof ReloadedFiles.Refused<T> refused) {
                Exception cause = refused.cause();
                TlsFileException e = cause instanceof ReloadedFiles.UnreadableFileException u
                        ? new TlsFileException(u.file(), u.reason(), u)
                        : cause instanceof TlsFileException t ? t
                        : new TlsFileException(files.paths().get(0), cause.toString(), cause);
                log.warn("TLS reload refused, keeping the material in use: {}", e.getMessage());
                listener.reloadFailed(e.file(), e.reason());
            }
        }
    }
}
