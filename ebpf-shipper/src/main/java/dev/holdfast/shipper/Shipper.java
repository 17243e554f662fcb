package dev.holdfast.shipper;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.shipper.config.PriorityRules;
import dev.holdfast.shipper.config.ShipperConfig;
import dev.holdfast.shipper.ebpf.EbpfUnavailableException;
import dev.holdfast.client.Backoff;
import dev.holdfast.shipper.source.EbpfSource;
import dev.holdfast.shipper.source.FallbackSource;
import dev.holdfast.client.Endpoints;
import dev.holdfast.client.BearerToken;
import dev.holdfast.client.TlsChannels;
import dev.holdfast.client.IntakeSession;
import dev.holdfast.shipper.source.EventSink;
import dev.holdfast.shipper.source.EventSource;
import dev.holdfast.shipper.spool.Spool;

import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The node agent: source → batcher → disk spool → intake session.
 *
 * <p>Two threads, decoupled by the spool so that an intake outage can never slow the kernel's ring buffer down:
 * the <b>drain</b> thread polls the source, batches events by priority and appends closed batches to the spool (a
 * memory copy into a mapped file; when the spool is full it drops its oldest BULK data, counted); the <b>session</b>
 * thread sends spooled batches to the intake and removes them from the spool only when acknowledged.
 *
 * <p>Lifecycle: construct (parts are injected and owned from then on), {@link #start()}, {@link #close()}: stops
 * draining, spools the open batches, stops the session and closes every part.
 */
public final class Shipper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Shipper.class);


    /** Batching limits; the intake refuses batches over its limits.maxBatchBytes (4 MiB by default). */
    public record Batching(int maxEvents, int maxBytes, long maxDelayNanos) {
    }

    private static final int POLL_MILLIS = 50;
    /** Events the inotify fallback buffers between its watcher thread and the drain thread. */
    private static final int FALLBACK_QUEUE = 65_536;

    private final EventSource source;
    private final Spool spool;
    private final Endpoints endpoints;
    private final PriorityRules priorities;
    private final ShipperMetrics metrics;
    private final SpoolBatches batches;
    private final IntakeSession session;
    private final Batcher batcher;
    private final Thread drainThread;
    private final Thread sessionThread;
    private volatile boolean draining = true;

    Shipper(String agentId, EventSource source, Spool spool, Endpoints endpoints, IntakeSession.Options sessionOptions,
            Backoff backoff, Batching batching, PriorityRules priorities) {
        this.source = source;
        this.spool = spool;
        this.endpoints = endpoints;
        this.priorities = priorities;
        this.metrics = new ShipperMetrics();
        this.batches = new SpoolBatches(agentId, spool);
        this.session = new IntakeSession(agentId, endpoints, batches, metrics, backoff, sessionOptions,
                System::nanoTime);
        this.batcher = new Batcher(batching.maxEvents(), batching.maxBytes(), batching.maxDelayNanos(), this::spool);
        metrics.bind(source, spool, endpoints, batches);
        spool.onWritten(session::wakeup);
        this.drainThread = new Thread(this::drainLoop, "shipper-drain");
        this.sessionThread = new Thread(session, "shipper-session");
    }

    /**
     * Builds a shipper from its configuration: opens the source (eBPF, the inotify fallback, or eBPF falling back
     * with a one-line reason), recovers the spool, and prepares the endpoints. Nothing runs until {@link #start()}.
     *
     * @throws EbpfUnavailableException when the source is ebpf and eBPF cannot load here (the message is one line)
     */
    public static Shipper open(ShipperConfig config) throws IOException, EbpfUnavailableException {
        EventSource source = openSource(config);
        Spool spool;
        try {
            ShipperConfig.Spool s = config.spool();
            spool = Spool.open(Spool.Config.of(s.dir(), s.maxBytes(), s.minFreeDisk()));
        } catch (IOException | RuntimeException e) {
            source.close();
            throw e;
        }
        ShipperConfig.Intake in = config.intake();
        Endpoints endpoints;
        try {
            endpoints = Endpoints.standard(in.endpoints(), in.dnsRefresh().toNanos(), channels(in));
        } catch (IOException | RuntimeException e) {
            source.close();
            spool.close();
            throw e;
        }
        Backoff backoff = new Backoff(in.backoffBase().toMillis(), in.backoffCap().toMillis(), new SplittableRandom());
        ShipperConfig.Batch b = config.batch();
        return new Shipper(config.agentId(), source, spool, endpoints, IntakeSession.Options.of(in.window()), backoff,
                new Batching(b.maxEvents(), (int) b.maxBytes(), b.maxDelay().toNanos()), config.priority());
    }

    /**
     * Plaintext, or TLS with the client certificate re-read when its files change; with a bearer token on every call
     * when a token file is configured.
     */
    private static Endpoints.ChannelFactory channels(ShipperConfig.Intake in) throws IOException {
        ShipperConfig.Tls tls = in.tls();
        Endpoints.ChannelFactory channels = tls.enabled()
                ? TlsChannels.open(tls.files(), tls.serverName(), java.time.Clock.systemUTC())
                : Endpoints::plaintextChannel;
        return in.tokenFile() == null ? channels
                : channels.intercepted(BearerToken.fromFile(in.tokenFile(), java.time.Clock.systemUTC()));
    }

    private static EventSource openSource(ShipperConfig config)
            throws IOException, EbpfUnavailableException {
        return switch (config.source()) {
            case EBPF -> EbpfSource.open(config.toProbeConfig(), config.priority());
            case FALLBACK -> FallbackSource.start(config.filters(), FALLBACK_QUEUE);
            case AUTO -> {
                try {
                    yield EbpfSource.open(config.toProbeConfig(), config.priority());
                } catch (EbpfUnavailableException e) {
                    LOG.warn("eBPF unavailable: {}; using the inotify fallback (no pids, no CLOSE_WRITE, renames as "
                            + "UNLINK + CREATE)", e.getMessage());
                    yield FallbackSource.start(config.filters(), FALLBACK_QUEUE);
                }
            }
        };
    }

    public void start() {
        drainThread.start();
        sessionThread.start();
    }

    /** Serves GET /metrics, /healthz and /readyz; returns the bound port. */
    public int serveMetrics(String host, int port) throws java.io.IOException {
        return metrics.serve(host, port, this::health);
    }

    /**
     * Live unless a thread that must run has stopped (the kernel's events no longer read, or nothing sent): a
     * restart is the cure. Ready once started and live. An unreachable intake is neither: the shipper is doing its job
     * then, spooling; the details say where it sends and how much waits.
     */
    ShipperMetrics.Health health() {
        java.util.List<String> reasons = new java.util.ArrayList<>();
        boolean started = drainThread.getState() != Thread.State.NEW;
        if (!started) {
            reasons.add("starting");
        } else {
            if (!drainThread.isAlive() && draining) {
                reasons.add("the drain thread stopped: the source's events are no longer read");
            }
            if (!sessionThread.isAlive() && draining) {
                reasons.add("the session thread stopped: nothing is sent to the intake");
            }
            if (!draining) {
                reasons.add("stopping");
            }
        }
        boolean live = !started || !draining || (drainThread.isAlive() && sessionThread.isAlive());
        Spool.Stats s = spool.stats();
        java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("source", source.name());
        details.put("intake", session.endpointDescription());
        details.put("spoolPendingEvents", s.pendingEvents());
        details.put("droppedEvents", dropsTotal());
        return new ShipperMetrics.Health(live, reasons.isEmpty(), reasons, details);
    }

    private void drainLoop() {
        try {
            while (draining) {
                long now = System.nanoTime();
                int wait = (int) Math.max(0, Math.min(POLL_MILLIS,
                        TimeUnit.NANOSECONDS.toMillis(batcher.nextDueNanos(now, TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS)) - now)));
                int n = source.poll(drained, wait);
                if (n > 0) {
                    metrics.drained.increment(n);
                }
                batcher.closeDue(System.nanoTime());
            }
        } catch (RuntimeException e) {
            LOG.error("drain stopped by unexpected error", e);
            throw e;
        } finally {
            batcher.closeAll(); // everything drained reaches the spool before the spool closes
        }
    }

    /** The drain thread's receiver of the source's events: each goes into its priority's batch. */
    private final EventSink drained = new EventSink() {
        @Override
        public void event(Event e) {
            batcher.add(withPriority(e), System.nanoTime());
        }

        @Override
        public void encoded(Priority priority, byte[] bytes, int length) {
            batcher.add(priority, bytes, length, System.nanoTime());
        }
    };

    private Event withPriority(Event e) {
        Priority p = priorities.priorityOf(e.getFile().getPath());
        return e.getPriority() == p ? e : e.toBuilder().setPriority(p).build();
    }

    private void spool(Priority priority, int events, byte[] encodedEvents) {
        spool.append(priority, events, encodedEvents);
        metrics.batched.increment();
        metrics.spooled.increment(events);
    }

    /** One line of live counts for the terminal. */
    public String statusLine() {
        Spool.Stats s = spool.stats();
        return String.format("shipper[%s]: drained=%d acked=%d pending=%d events/%d batches spool=%.1f MiB "
                        + "drops=%d intake=%s",
                source.name(), (long) metrics.drained.count(), metrics.acknowledgedEvents(), s.pendingEvents(),
                s.pendingBatches(), s.diskBytes() / 1048576.0, dropsTotal(), session.endpointDescription());
    }

    /** Every event lost between the kernel and the intake, all reasons together. */
    public long dropsTotal() {
        long total = 0;
        for (var m : metrics.registry().find("holdfast.shipper.dropped.events").functionCounters()) {
            total += (long) m.count();
        }
        return total;
    }

    /** Events acknowledged by the intake since start. */
    public long acknowledgedEvents() {
        return metrics.acknowledgedEvents();
    }

    public String sourceName() {
        return source.name();
    }

    @Override
    public void close() {
        metrics.close(); // first: no scrape may reach a part already closed
        draining = false;
        join(drainThread);
        session.stop();
        join(sessionThread);
        source.close();
        spool.close();
        endpoints.close();
    }

    private static void join(Thread t) {
        if (!t.isAlive()) {
            return;
        }
        try {
            t.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
