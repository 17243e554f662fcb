package dev.holdfast.chaos.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code holdfast wal verify} and {@code holdfast wal dump} run as the operator runs them (their own JVM, the built
 * CLI), stdout and stderr kept apart so that a dump's JSON lines are never interleaved with log lines.
 */
public final class WalTool {
    /** One valid record of a dump: its WAL index and segment, and the batch it holds. */
    public record Dumped(long index, String segment, String agent, long seq) {
        /** "agent seq", as the agents' ack logs write a batch. */
        public String batch() {
            return agent + " " + seq;
        }
    }

    /** A finished run: exit status, stdout, stderr. */
    public record Output(String command, int exit, String stdout, String stderr) {
        /** Both streams: where a tool may name what it found. */
        public String text() {
            return stdout + (stdout.endsWith("\n") || stdout.isEmpty() ? "" : "\n") + stderr;
        }

        /** The valid records of a dump (lines with agent_id and batch_seq), in output order. */
        public List<Dumped> records() throws IOException {
            ObjectMapper json = new ObjectMapper();
            List<Dumped> out = new ArrayList<>();
            for (String line : stdout.split("\n")) {
                if (!line.startsWith("{")) {
                    continue;
                }
                JsonNode n = json.readTree(line);
                if (n.hasNonNull("agent_id") && n.hasNonNull("batch_seq")) {
                    out.add(new Dumped(n.path("index").asLong(), n.path("segment").asText(),
                            n.path("agent_id").asText(), Long.parseUnsignedLong(n.path("batch_seq").asText())));
                }
            }
            return out;
        }
    }

    /** A running tool. */
    public static final class Run {
        private final String command;
        private final Process process;
        private final Path out;
        private final Path err;

        private Run(String command, Process process, Path out, Path err) {
            this.command = command;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        /** Waits for it to exit (killed after {@code timeoutSeconds}, exit -1) and reads what it printed. */
        public Output await(long timeoutSeconds) throws IOException, InterruptedException {
            int exit;
            if (process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                exit = process.exitValue();
            } else {
                process.destroyForcibly();
                process.waitFor(20, TimeUnit.SECONDS);
                exit = -1;
            }
            return new Output(command, exit, Files.readString(out), Files.readString(err));
        }
    }

    private WalTool() {
    }

    /** Starts {@code holdfast wal ARGS... --data DATA_DIR}; its output goes to {@code NAME.out} and {@code NAME.err} in {@code dir}. */
    public static Run start(ChaosHome home, Path dir, String name, Path dataDir, String... args) throws IOException {
        List<String> cli = new ArrayList<>(List.of("wal"));
        cli.addAll(List.of(args));
        cli.addAll(List.of("--data", dataDir.toString()));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process p = new ProcessBuilder(home.command(List.of("-Xmx256m", "-XX:+UseSerialGC"), cli))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new Run("holdfast " + String.join(" ", cli), p, out, err);
    }

    public static Run verify(ChaosHome home, Path dir, String name, Path dataDir) throws IOException {
        return start(home, dir, name, dataDir, "verify");
    }

    public static Run dump(ChaosHome home, Path dir, String name, Path dataDir) throws IOException {
        return start(home, dir, name, dataDir, "dump");
    }
}
