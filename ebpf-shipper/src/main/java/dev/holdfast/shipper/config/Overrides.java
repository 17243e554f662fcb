package dev.holdfast.shipper.config;

import dev.holdfast.client.Endpoints;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command-line values laid over the file's (or the defaults): a null or empty value keeps what is there. Applied
 * before validation, so a file without endpoints plus {@code --intake} is a valid whole.
 *
 * @param endpoints   replace intake.endpoints
 * @param watch       replace watch.include
 * @param exclude     added to watch.exclude (the default /proc/ /sys/ /dev/ stay excluded)
 * @param spoolDir    replaces spool.dir
 * @param source      replaces source.kind
 * @param metricsPort replaces metrics.port
 * @param agentId     replaces agentId
 * @param tls         its non-null fields replace intake.tls's
 * @param tokenFile   replaces intake.tokenFile ({@code --token-file})
 */
public record Overrides(List<Endpoints.Target> endpoints, List<String> watch, List<String> exclude, Path spoolDir,
                        SourceKind source, Integer metricsPort, String agentId, ShipperConfig.Tls tls,
                        Path tokenFile) {

    /** Without a token file. */
    public Overrides(List<Endpoints.Target> endpoints, List<String> watch, List<String> exclude, Path spoolDir,
                     SourceKind source, Integer metricsPort, String agentId, ShipperConfig.Tls tls) {
        this(endpoints, watch, exclude, spoolDir, source, metricsPort, agentId, tls, null);
    }

    public static final Overrides NONE = new Overrides(List.of(), List.of(), List.of(), null, null, null, null);

    /** Without TLS flags. */
    public Overrides(List<Endpoints.Target> endpoints, List<String> watch, List<String> exclude, Path spoolDir,
                     SourceKind source, Integer metricsPort, String agentId) {
        this(endpoints, watch, exclude, spoolDir, source, metricsPort, agentId, ShipperConfig.Tls.OFF);
    }

    public Overrides {
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
        watch = watch == null ? List.of() : List.copyOf(watch);
        exclude = exclude == null ? List.of() : List.copyOf(exclude);
        tls = tls == null ? ShipperConfig.Tls.OFF : tls;
    }

    String agentId(String current) {
        return agentId != null ? agentId : current;
    }

    ShipperConfig.Intake intake(ShipperConfig.Intake in) {
        ShipperConfig.Intake out = endpoints.isEmpty() ? in : new ShipperConfig.Intake(endpoints, in.dnsRefresh(),
                in.connectTimeout(), in.backoffBase(), in.backoffCap(), in.window(), in.tls(), in.tokenFile());
        if (tokenFile != null) {
            out = out.withTokenFile(tokenFile);
        }
        ShipperConfig.Tls t = out.tls();
        return tls.equals(ShipperConfig.Tls.OFF) ? out : out.withTls(new ShipperConfig.Tls(
                tls.ca() != null ? tls.ca() : t.ca(), tls.cert() != null ? tls.cert() : t.cert(),
                tls.key() != null ? tls.key() : t.key(), tls.serverName() != null ? tls.serverName() : t.serverName()));
    }

    ShipperConfig.Spool spool(ShipperConfig.Spool s) {
        return spoolDir == null ? s : new ShipperConfig.Spool(spoolDir, s.maxBytes(), s.minFreeDisk());
    }

    SourceKind source(SourceKind current) {
        return source != null ? source : current;
    }

    ShipperConfig.Watch watch(ShipperConfig.Watch w) {
        List<String> excludes = new ArrayList<>(w.exclude());
        excludes.addAll(exclude);
        return new ShipperConfig.Watch(watch.isEmpty() ? w.include() : watch, excludes, w.includeNames(),
                w.excludeNames(), w.excludeComms(), w.emitReads(), w.modifyInterval(), w.ringBufferBytes());
    }

    ShipperConfig.Metrics metrics(ShipperConfig.Metrics m) {
        return metricsPort != null ? new ShipperConfig.Metrics(m.host(), metricsPort) : m;
    }
}
