package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the built Holdfast is: the checkout whose {@code cli/target/holdfast.jar} the chaos suite runs as separate
 * processes, exactly as an operator's {@code ./holdfast} would (same jar, same JVM flags from jvm.options).
 */
public final class ChaosHome {
    private final Path root;
    private final List<String> jvmFlags;

    private ChaosHome(Path root, List<String> jvmFlags) {
        this.root = root;
        this.jvmFlags = jvmFlags;
    }

    /** HOLDFAST_HOME, else the nearest directory above the working directory holding a built CLI. */
    public static ChaosHome locate() throws IOException {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("HOLDFAST_HOME");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            candidates.add(p);
        }
        for (Path c : candidates) {
            Path jar = c.resolve("cli/target/holdfast.jar");
            Path opts = c.resolve("cli/target/jvm.options");
            if (Files.exists(jar) && Files.exists(opts)) {
                List<String> flags = List.of(Files.readString(opts).trim().split("\\s+"));
                return new ChaosHome(c.toAbsolutePath(), flags);
            }
        }
        throw new IOException("no built Holdfast (cli/target/holdfast.jar) in HOLDFAST_HOME or above "
                + Path.of("").toAbsolutePath() + ": run `mvn -B package -DskipTests` (or ./holdfast once) first");
    }

    /** The extra JVM flags the launcher gives {@code holdfast intake} (heap and direct memory bounds). */
    public List<String> intakeJvmFlags() throws IOException {
        return List.of(Files.readString(root.resolve("cli/target/intake.jvm.options")).trim().split("\\s+"));
    }

    public Path root() {
        return root;
    }

    /** java + Holdfast's JVM flags + extra JVM options + -jar holdfast.jar + the command's arguments. */
    public List<String> command(List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(root.resolve("cli/target/holdfast.jar").toString());
        cmd.addAll(args);
        return cmd;
    }
}
