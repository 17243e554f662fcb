package dev.holdfast.intake.config;

import dev.holdfast.config.ConfigText;
import dev.holdfast.intake.config.IntakeConfig.Endpoint;
import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.intake.config.IntakeConfig.Limits;
import dev.holdfast.intake.config.IntakeConfig.Wal;
import dev.holdfast.intake.config.IntakeConfig.Forwarding;
import dev.holdfast.intake.config.IntakeConfig.Tls;
import dev.holdfast.config.LogSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The components of an {@link IntakeConfig} before validation. It exists so that reading the file,
 * applying overrides and checking ranges can all add to one list of problems, instead of the first
 * failing step hiding the rest.
 */
record ConfigDraft(
        String nodeId, Path dataDir, Durability durability, Endpoint grpc, Endpoint http, Limits limits, Wal wal,
        Forwarding forwarder, Tls tls, IntakeConfig.Auth auth, IntakeConfig.Otlp otlp, LogSettings log) {

    static ConfigDraft of(IntakeConfig c) {
        return new ConfigDraft(c.nodeId(), c.dataDir(), c.durability(), c.grpc(), c.http(), c.limits(), c.wal(),
                c.forwarder(), c.tls(), c.auth(), c.otlp(), c.log());
    }

    /** Applies the overrides, validates, and throws with {@code earlierProblems} first if anything is wrong. */
    IntakeConfig build(Overrides o, List<String> earlierProblems) {
        Objects.requireNonNull(o, "overrides");
        List<String> problems = new ArrayList<>(earlierProblems);
        Durability newDurability = durability;
        if (o.durability() != null) {
            var parsed = Durability.parse(o.durability());
            if (parsed.isPresent()) {
                newDurability = parsed.get();
            } else {
                problems.add(ConfigText.notOneOf("durability", o.durability(), Durability.allowed()));
            }
        }
        Path newDataDir = o.dataDir() != null ? o.dataDir() : dataDir;
        Endpoint newGrpc = o.grpcPort() != null ? new Endpoint(grpc.host(), o.grpcPort()) : grpc;
        Endpoint newHttp = o.httpPort() != null ? new Endpoint(http.host(), o.httpPort()) : http;
        Forwarding f = forwarder;
        if (o.kafka() != null || o.topic() != null) {
            f = f.withKafka(o.kafka() != null ? o.kafka() : f.kafka(), o.topic() != null ? o.topic() : f.topic());
        }
        Tls newTls = tls(o);
        newGrpc = withHost(newGrpc, newTls.enabled() || newTls.allowInsecure());
        newHttp = withHost(newHttp, newTls.onHttp() || newTls.allowInsecure());
        IntakeConfig.Auth newAuth = o.authTokens() != null
                ? new IntakeConfig.Auth(auth.require(), o.authTokens(), auth.agents(), auth.httpToken()) : auth;
        problems.addAll(IntakeConfigValidator.problems(nodeId, newDataDir, newDurability, newGrpc, newHttp, limits, wal, f,
                newTls));
        problems.addAll(IntakeConfigValidator.authProblems(newAuth, newTls));
        IntakeConfig.Otlp newOtlp = o.otlpHttpPort() != null ? otlp.withHttpPort(o.otlpHttpPort()) : otlp;
        problems.addAll(IntakeConfigValidator.otlpProblems(newOtlp, newGrpc, newHttp, f));
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
        return new IntakeConfig(nodeId, newDataDir, newDurability, newGrpc, newHttp, limits, wal, f, newTls, newAuth,
                newOtlp, log);
    }

    private Tls tls(Overrides o) {
        if (o.tlsCert() == null && o.tlsKey() == null && o.tlsClientCa() == null && o.insecure() == null) {
            return tls;
        }
        return new Tls(o.tlsCert() != null ? o.tlsCert() : tls.cert(), o.tlsKey() != null ? o.tlsKey() : tls.key(),
                o.tlsClientCa() != null ? o.tlsClientCa() : tls.clientCa(), tls.clientAuth(), tls.http(),
                o.insecure() != null ? o.insecure() : tls.allowInsecure(), tls.reloadInterval());
    }

    /** A host left unset listens on every interface only where that is safe or explicitly allowed. */
    private static Endpoint withHost(Endpoint e, boolean network) {
        return e.host() != null ? e : new Endpoint(network ? "0.0.0.0" : "127.0.0.1", e.port());
    }
}
