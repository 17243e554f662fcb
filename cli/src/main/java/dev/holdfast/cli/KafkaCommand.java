package dev.holdfast.cli;

import dev.holdfast.broker.EmbeddedKafka;
import dev.holdfast.broker.KafkaCluster;
import dev.holdfast.wal.WalDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "kafka", mixinStandardHelpOptions = true,
        description = "Run a Kafka broker (KRaft, broker and controller in one process) for development and tests, "
                + "or with --cluster N a cluster of N such brokers, each its own process. Prints "
                + "`kafka ready bootstrap=HOST:PORT[,HOST:PORT...]` once it accepts connections; stops on SIGTERM/SIGINT.")
public final class KafkaCommand implements Callable<Integer> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaCommand.class);

    @Option(names = "--data", description = "Kafka log directory, formatted on first use; with --cluster the "
            + "cluster's directory (broker-1, broker-2, ... and cluster.properties). "
            + "Default: $HOLDFAST_HOME/data/kafka or ./data/kafka")
    Path data;
    @Option(names = "--port", description = "Client port (default ${DEFAULT-VALUE}; 0 = any free port). With --cluster "
            + "the first client port: brokers listen on P, P+1, ... and their controllers on P+100, P+101, ...; the "
            + "ports are kept in the data directory and reused when --port is left out")
    int port = 9092;
    // Loopback by default: this broker has no authentication, so exposing it must be a deliberate choice.
    @Option(names = "--host", description = "Address to bind and advertise to clients (default ${DEFAULT-VALUE})")
    String host = "127.0.0.1";
    @Option(names = "--cluster", paramLabel = "N", description = "Number of brokers (default ${DEFAULT-VALUE}). "
            + "From 3 on, topics default to 3 replicas with min.insync.replicas=2")
    int cluster = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (cluster < 1) {
            throw new OperatorError(ExitCodes.USAGE, "--cluster: must be 1 or more, was " + cluster, null);
        }
        Path dir = data != null ? data : defaultDataDir();
        WalDirectory.checkWritable(dir); // the broker's own error would name neither the directory nor the reason
        if (cluster > 1) {
            return serveCluster(dir, System.out);
        }
        EmbeddedKafka kafka = new EmbeddedKafka(dir, host, port);
        try {
            EmbeddedKafka.serveUntilShutdown(kafka, System.out);
        } catch (Exception e) {
            kafka.close(); // a half-started broker is stopped before ErrorReporter reports the failure
            throw e;
        }
        return 0;
    }

    /**
     * Starts the brokers, prints one line per broker and the ready line, then blocks until the JVM is asked to stop;
     * a shutdown hook stops every broker. The brokers also exit by themselves when this process dies, SIGKILL
     * included (they watch its pid).
     */
    private int serveCluster(Path dir, PrintStream out) throws IOException, InterruptedException {
        // the ports of an existing cluster are in its directory; the default port only applies to a new one
        boolean portGiven = spec.commandLine().getParseResult().hasMatchedOption("--port");
        boolean exists = Files.exists(dir.resolve(KafkaCluster.PROPERTIES_FILE));
        KafkaCluster brokers = new KafkaCluster(dir, host, portGiven || !exists ? port : 0, cluster);
        try {
            brokers.start();
        } catch (IOException e) {
            brokers.close();
            throw new OperatorError(ExitCodes.FAILED, firstLine(e), e);
        } catch (InterruptedException | RuntimeException e) {
            brokers.close();
            throw e;
        }
        CountDownLatch closed = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            try {
                brokers.close();
                out.println(EmbeddedKafka.STOPPED_LINE);
                out.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closed.countDown();
            }
        }, "kafka-cluster-shutdown"));
        for (int id : brokers.ids()) {
            out.println("kafka broker id=" + id + " pid=" + brokers.pid(id) + " bootstrap=" + brokers.bootstrap(id));
        }
        out.println(EmbeddedKafka.READY_PREFIX + brokers.bootstrap());
        out.flush();
        // A broker that dies (the chaos suite kills them) is reported once; the others carry on.
        Set<Integer> reported = new HashSet<>();
        while (!closed.await(1, TimeUnit.SECONDS)) {
            for (int id : brokers.ids()) {
                if (!brokers.alive(id) && !stopping.get() && reported.add(id)) {
                    LOG.warn("broker {} (pid {}) exited; its log: {}", id, brokers.pid(id), brokers.log(id));
                }
            }
        }
        return 0;
    }

    /**
     * A broker that fails to start puts its log in the exception; the operator gets the line that says which
     * broker and where its log is, and the reason if it is a common one.
     */
    private static String firstLine(IOException e) {
        String message = String.valueOf(e.getMessage());
        int cut = message.indexOf(":\n");
        String first = (cut < 0 ? message : message.substring(0, cut)).strip();
        if (message.contains("Address already in use")) {
            first += ": Address already in use";
        }
        return first;
    }

    /** Next to the intake's data (see IntakeConfig), so one HOLDFAST_HOME holds everything. */
    private static Path defaultDataDir() {
        String home = System.getenv("HOLDFAST_HOME");
        return home == null || home.isBlank() ? Path.of("data", "kafka") : Path.of(home, "data", "kafka");
    }
}
