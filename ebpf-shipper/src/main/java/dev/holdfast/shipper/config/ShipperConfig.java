package dev.holdfast.shipper.config;

import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.client.Endpoints;
import dev.holdfast.config.LocalHost;
import dev.holdfast.shipper.ebpf.Filters;
import dev.holdfast.shipper.ebpf.ProbeConfig;
import dev.holdfast.config.LogSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The whole configuration of one shipper, loaded from YAML ({@link #load(Path)}); command-line flags adjust
 * it afterwards by building a changed copy.
 *
 * <p>Every instance is valid: the canonical constructor runs {@link ShipperConfigValidator} and throws
 * {@link InvalidConfigException} listing every problem, each naming the field by its YAML path.
 * The example file {@code holdfast-shipper-example.yaml} (in the jar) documents every field.
 */
public record ShipperConfig(
        String agentId,
        Intake intake,
        Batch batch,
        Spool spool,
        SourceKind source,
        Watch watch,
        PriorityRules priority,
        Metrics metrics,
        LogSettings log) {

    /** The intake's default {@code limits.maxBatchBytes}: a larger batch would be refused as INVALID. */
    public static final long INTAKE_MAX_BATCH_BYTES = 4L << 20;

    /**
     * Where batches go and how connections behave.
     *
     * @param endpoints      intakes to send to (at least one)
     * @param dnsRefresh     how often DNS names are re-resolved
     * @param connectTimeout how long a connection attempt may take
     * @param backoffBase    first reconnect delay, doubled per failure ...
     * @param backoffCap     ... up to this
     * @param window         batches sent and not yet acknowledged, per connection
     * @param tls            TLS to the intakes; {@link Tls#OFF} = plaintext
     * @param tokenFile      a file holding the bearer token sent on every call (the intake's auth.tokens); null = none
     */
    public record Intake(List<Endpoints.Target> endpoints, Duration dnsRefresh, Duration connectTimeout,
                         Duration backoffBase, Duration backoffCap, int window, Tls tls, Path tokenFile) {
        public Intake {
            endpoints = List.copyOf(endpoints);
            Objects.requireNonNull(tls, "tls");
        }

        /** Without a bearer token. */
        public Intake(List<Endpoints.Target> endpoints, Duration dnsRefresh, Duration connectTimeout,
                      Duration backoffBase, Duration backoffCap, int window, Tls tls) {
            this(endpoints, dnsRefresh, connectTimeout, backoffBase, backoffCap, window, tls, null);
        }

        /** Plaintext. */
        public Intake(List<Endpoints.Target> endpoints, Duration dnsRefresh, Duration connectTimeout,
                      Duration backoffBase, Duration backoffCap, int window) {
            this(endpoints, dnsRefresh, connectTimeout, backoffBase, backoffCap, window, Tls.OFF);
        }

        /** A copy with other TLS settings. */
        public Intake withTls(Tls newTls) {
            return new Intake(endpoints, dnsRefresh, connectTimeout, backoffBase, backoffCap, window, newTls,
                    tokenFile);
        }

        /** A copy with another bearer token file. */
        public Intake withTokenFile(Path newTokenFile) {
            return new Intake(endpoints, dnsRefresh, connectTimeout, backoffBase, backoffCap, window, tls,
                    newTokenFile);
        }
    }

    /**
     * TLS to the intakes: on when a CA bundle or a client certificate is given. The intake's certificate is verified
     * against each endpoint's host name, or {@code serverName}. The files are re-read when they change.
     *
     * @param ca         PEM CA bundle to verify the intake's certificate; null = the JDK's default trust store
     * @param cert       PEM client certificate chain for mutual TLS; null = none
     * @param key        its PKCS#8 private key
     * @param serverName the name the intake's certificate must carry; null = each endpoint's host
     */
    public record Tls(Path ca, Path cert, Path key, String serverName) {
        public static final Tls OFF = new Tls(null, null, null, null);

        public boolean enabled() {
            return ca != null || cert != null || key != null;
        }

        public dev.holdfast.tls.TlsFiles files() {
            return new dev.holdfast.tls.TlsFiles(cert, key, ca);
        }
    }

    /** A batch is closed at whichever comes first: maxEvents, maxBytes (encoded), or maxDelay after its first event. */
    public record Batch(int maxEvents, long maxBytes, Duration maxDelay) {}

    /** The on-disk queue of batches not yet acknowledged: capped at maxBytes, and never filling the disk beyond minFreeDisk. */
    public record Spool(Path dir, long maxBytes, long minFreeDisk) {}

    /**
     * What to watch; the eBPF probe applies all of it in the kernel, the fallback all but excludeComms.
     * Prefixes are absolute directory prefixes and get a trailing '/' here, so "/etc" cannot match "/etcd".
     */
    public record Watch(List<String> include, List<String> exclude, List<String> includeNames,
                        List<String> excludeNames, List<String> excludeComms, boolean emitReads,
                        Duration modifyInterval, long ringBufferBytes) {
        public Watch {
            include = directories(include);
            exclude = directories(exclude);
            includeNames = List.copyOf(includeNames);
            excludeNames = List.copyOf(excludeNames);
            excludeComms = List.copyOf(excludeComms);
        }

        private static List<String> directories(List<String> prefixes) {
            return prefixes.stream().map(p -> p.endsWith("/") ? p : p + "/").toList();
        }
    }

    /**
     * The HTTP endpoint (/metrics, /healthz, /readyz).
     *
     * @param host the address it listens on: loopback unless configured, as the intake's (it answers without
     *             credentials); a scraper or probe from another address needs it set, e.g. {@code 0.0.0.0}
     * @param port 0 = any free port, -1 = no endpoint
     */
    public record Metrics(String host, int port) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 9464;
        public static final Metrics DEFAULTS = new Metrics(DEFAULT_HOST, DEFAULT_PORT);

        public Metrics {
            Objects.requireNonNull(host, "host");
        }
    }


    public ShipperConfig {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(intake, "intake");
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(spool, "spool");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(watch, "watch");
        Objects.requireNonNull(priority, "priority");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(log, "log");
        List<String> problems = ShipperConfigValidator.problems(agentId, intake, batch, spool, watch, priority, metrics);
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
    }

    /** Every default, sending to {@code endpoints} (which have no default). */
    public static ShipperConfig defaults(List<Endpoints.Target> endpoints) {
        return new ShipperConfig(LocalHost.name(), defaultIntake(endpoints), defaultBatch(), defaultSpool(),
                SourceKind.EBPF, defaultWatch(), PriorityRules.defaults(), Metrics.DEFAULTS, LogSettings.DEFAULTS);
    }

    /**
     * Reads a YAML file; fields it leaves out keep their defaults.
     *
     * @throws InvalidConfigException listing every problem (or the one reason the file cannot be read)
     */
    public static ShipperConfig load(Path file) {
        return load(file, Overrides.NONE);
    }

    /** Reads a YAML file and lays command-line values over it before validating the whole. */
    public static ShipperConfig load(Path file, Overrides overrides) {
        return load(file, overrides, System::getenv);
    }

    /** As {@link #load(Path, Overrides)}, with {@code ${NAME}} references resolved from {@code getenv}. */
    public static ShipperConfig load(Path file, Overrides overrides, java.util.function.Function<String, String> getenv) {
        return ShipperConfigReader.read(file, overrides, getenv);
    }

    /** The defaults with command-line values laid over them (no file). */
    public static ShipperConfig fromOverrides(Overrides o) {
        return new ShipperConfig(o.agentId(LocalHost.name()), o.intake(defaultIntake(List.of())), defaultBatch(),
                o.spool(defaultSpool()), o.source(SourceKind.EBPF), o.watch(defaultWatch()), PriorityRules.defaults(),
                o.metrics(Metrics.DEFAULTS), LogSettings.DEFAULTS);
    }

    /** The probe settings: watch filters, ring buffer, reads and modify interval; the shipper's own writes excluded. */
    public ProbeConfig toProbeConfig() {
        return new ProbeConfig((int) watch.ringBufferBytes(), filters(), true, watch.emitReads(),
                watch.modifyInterval());
    }

    /** The watch section as probe filters (also what the fallback source applies). */
    public Filters filters() {
        return new Filters(new LinkedHashSet<>(watch.include()), new LinkedHashSet<>(watch.exclude()),
                new LinkedHashSet<>(watch.includeNames()), new LinkedHashSet<>(watch.excludeNames()),
                new LinkedHashSet<>(watch.excludeComms()));
    }

    static Intake defaultIntake(List<Endpoints.Target> endpoints) {
        return new Intake(endpoints, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofMillis(200),
                Duration.ofSeconds(30), 32);
    }

    static Batch defaultBatch() {
        // 256 KiB: a window of 32 unacknowledged batches then stays within 8 MiB of a 32 MiB shipper heap
        return new Batch(1000, 256L << 10, Duration.ofMillis(200));
    }

    static Spool defaultSpool() {
        return new Spool(Path.of("./data/spool"), 256L << 20, 64L << 20);
    }

    static Watch defaultWatch() {
        return new Watch(List.of(), Filters.DEFAULT_EXCLUDES, List.of(), List.of(), List.of(), false, Duration.ZERO,
                ProbeConfig.DEFAULT_RING_BYTES);
    }
}
