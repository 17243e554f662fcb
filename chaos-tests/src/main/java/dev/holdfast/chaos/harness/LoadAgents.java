package dev.holdfast.chaos.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A group of simulated agents: one {@code holdfast bench ingest} process streaming to the intakes (failing over
 * between them), recording every acknowledged batch in its ack log. What they acknowledged is what the verifier
 * demands from Kafka.
 */
public final class LoadAgents implements AutoCloseable {
    /**
     * How the group is run; {@code durationSeconds} is only a cap, scenarios end the load with {@link #finish()}
     * once their faults are over. {@code jvmOptions} lets the DNS scenario point name lookups at its own hosts file. */
    public record Spec(String prefix, String targets, int agents, int batchEvents, int eventBytes, double rate,
                       int window, int durationSeconds, String priority, List<String> extraArgs,
                       List<String> jvmOptions) {
        public Spec {
            extraArgs = List.copyOf(extraArgs);
            jvmOptions = List.copyOf(jvmOptions);
        }

        /** Longest a group may run: a safety cap, the scenario normally ends it much earlier. */
        public static final int CAP_SECONDS = 900;

        public static Spec of(String prefix, String targets, int agents, double rate) {
            return new Spec(prefix, targets, agents, 20, 100, rate, 8, CAP_SECONDS, "normal", List.of(), List.of());
        }

        public Spec withPriority(String p) {
            return new Spec(prefix, targets, agents, batchEvents, eventBytes, rate, window, durationSeconds, p,
                    extraArgs, jvmOptions);
        }

        public Spec withEvents(int events, int bytes) {
            return new Spec(prefix, targets, agents, events, bytes, rate, window, durationSeconds, priority,
                    extraArgs, jvmOptions);
        }

        public Spec with(List<String> moreArgs, List<String> moreJvmOptions) {
            List<String> a = new ArrayList<>(extraArgs);
            a.addAll(moreArgs);
            List<String> j = new ArrayList<>(jvmOptions);
            j.addAll(moreJvmOptions);
            return new Spec(prefix, targets, agents, batchEvents, eventBytes, rate, window, durationSeconds, priority,
                    a, j);
        }
    }

    private final Spec spec;
    private final Path ackLog;
    private final Path report;
    private final Path stopFile;
    private final ChildProcess process;

    private LoadAgents(Spec spec, Path ackLog, Path report, Path stopFile, ChildProcess process) {
        this.spec = spec;
        this.ackLog = ackLog;
        this.report = report;
        this.stopFile = stopFile;
        this.process = process;
    }

    public static LoadAgents start(ChaosHome home, Path dir, Spec spec) throws IOException {
        Files.createDirectories(dir);
        Path ackLog = dir.resolve(spec.prefix() + "-acked.log");
        Path report = dir.resolve(spec.prefix() + "-report.json");
        Path stopFile = dir.resolve(spec.prefix() + ".stop");
        List<String> args = new ArrayList<>(List.of("bench", "ingest", "--target", spec.targets(),
                "--agents", Integer.toString(spec.agents()), "--batch", Integer.toString(spec.batchEvents()),
                "--event-bytes", Integer.toString(spec.eventBytes()), "--rate", Double.toString(spec.rate()),
                "--window", Integer.toString(spec.window()), "--duration", Integer.toString(spec.durationSeconds()),
                "--warmup", "0", "--priority", spec.priority(), "--agent-prefix", spec.prefix(),
                "--acked-log", ackLog.toString(), "--report-json", report.toString(),
                "--stop-file", stopFile.toString()));
        args.addAll(spec.extraArgs());
        List<String> jvm = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseSerialGC"));
        jvm.addAll(spec.jvmOptions());
        ChildProcess p = ChildProcess.start("agents-" + spec.prefix(), home.command(jvm, args),
                dir.resolve(spec.prefix() + ".log"), Map.of());
        return new LoadAgents(spec, ackLog, report, stopFile, p);
    }

    /** Ends production now (the faults are over); the agents then wait for their outstanding acks and exit. */
    public void finish() throws IOException {
        if (!Files.exists(stopFile)) {
            Files.writeString(stopFile, "stop\n");
        }
    }

    public Spec spec() {
        return spec;
    }

    public Path ackLog() {
        return ackLog;
    }

    public ChildProcess process() {
        return process;
    }

    /** Waits for the run to end (its own drain included); returns the bench's exit status, -1 on timeout. */
    public int awaitExit(long timeoutSeconds) throws InterruptedException {
        return process.awaitExit(timeoutSeconds);
    }

    /** The bench's JSON summary (after exit). */
    public JsonNode report() throws IOException {
        if (!Files.exists(report)) {
            throw new IOException("agents " + spec.prefix() + " wrote no report; their log:\n" + process.logTail(3000));
        }
        return new ObjectMapper().readTree(report.toFile());
    }

    /** "agent seq" per acknowledged batch, in acknowledgement order. */
    public List<String> ackedBatches() throws IOException {
        return Files.exists(ackLog) ? Files.readAllLines(ackLog) : List.of();
    }

    /** Acknowledged batches so far (lines of the ack log). */
    public long ackedCount() throws IOException {
        if (!Files.exists(ackLog)) {
            return 0;
        }
        try (var lines = Files.lines(ackLog)) {
            return lines.count();
        }
    }

    /**
     * Waits until every agent of the group has had a batch acknowledged (each has resolved its targets and holds a
     * stream); false when one has not within {@code timeoutMillis}. A fault that must find the agents already
     * shipping waits for this rather than for a fixed time, which a slow JVM start can outlast.
     */
    public boolean awaitEveryAgentAcked(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            Set<String> agents = new HashSet<>();
            for (String line : ackedBatches()) {
                int sp = line.indexOf(' ');
                if (sp > 0) {
                    agents.add(line.substring(0, sp));
                }
            }
            if (agents.size() >= spec.agents()) {
                return true;
            }
            if (System.currentTimeMillis() >= deadline || !process.alive()) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    /** Event ids of acknowledged batches, as the forwarder writes them ("agent/seq/index"). */
    public Set<String> ackedEventIds(List<String> batches) {
        Set<String> ids = new LinkedHashSet<>();
        for (String line : batches) {
            int sp = line.indexOf(' ');
            String agent = line.substring(0, sp);
            String seq = line.substring(sp + 1);
            for (int i = 0; i < spec.batchEvents(); i++) {
                ids.add(agent + "/" + seq + "/" + i);
            }
        }
        return ids;
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
