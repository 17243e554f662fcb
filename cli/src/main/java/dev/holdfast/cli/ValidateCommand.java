package dev.holdfast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.holdfast.config.InvalidConfigException;
import dev.holdfast.config.YamlFile;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.shipper.config.ShipperConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * Checks a config file the way the intake or the shipper would read it at start, and does nothing else: no port is
 * bound, no directory made, no WAL opened. Every problem is printed (one line each, by YAML path), and the exit code
 * says whether there were any, so a deployment can check a file before it restarts a node with it.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check an intake or shipper config file (${ENV} references resolved from this environment) "
                + "without starting anything; print every problem and exit non-zero if there is one.")
public final class ValidateCommand implements Callable<Integer> {
    /** Top-level keys only one of the two configs has: how a file says which it is. */
    private static final Set<String> INTAKE_KEYS = Set.of("nodeId", "dataDir", "durability", "grpc", "http", "limits",
            "wal", "forwarder", "auth", "otlp");
    private static final Set<String> SHIPPER_KEYS = Set.of("agentId", "intake", "batch", "spool", "source", "watch",
            "priority", "metrics");

    enum Kind { intake, shipper }

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The YAML file to check")
    Path config;

    @Option(names = "--kind", paramLabel = "intake|shipper",
            description = "Which config the file is; by default told from its top-level keys")
    Kind kind;

    @Override
    public Integer call() {
        Kind k = kind != null ? kind : kindOf(config);
        if (k == Kind.intake) {
            IntakeConfig.load(config); // throws InvalidConfigException naming every problem
        } else {
            ShipperConfig.load(config);
        }
        System.out.println(config + ": a valid " + k + " config");
        return ExitCodes.OK;
    }

    /** Which config a file is, from the top-level keys only one of them has. */
    static Kind kindOf(Path file) {
        JsonNode root;
        try {
            root = YamlFile.read(file, new ArrayList<>());
        } catch (YamlFile.UnreadableException e) {
            throw new InvalidConfigException(List.of(e.getMessage()));
        }
        List<String> keys = new ArrayList<>();
        if (root != null && root.isObject()) {
            root.fieldNames().forEachRemaining(keys::add);
        }
        boolean intake = keys.stream().anyMatch(INTAKE_KEYS::contains);
        boolean shipper = keys.stream().anyMatch(SHIPPER_KEYS::contains);
        if (intake == shipper) {
            throw new InvalidConfigException(List.of(file + ": cannot tell whether this is an intake or a shipper config"
                    + (intake ? " (it has keys of both)" : " (it has no key of either)") + "; say which with --kind"));
        }
        return intake ? Kind.intake : Kind.shipper;
    }
}
