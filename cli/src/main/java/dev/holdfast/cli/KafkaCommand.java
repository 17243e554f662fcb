package dev.holdfast.cli;

import dev.holdfast.forwarder.kafka.EmbeddedKafka;
import dev.holdfast.wal.WalDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "kafka", mixinStandardHelpOptions = true,
        description = "Run a single-node Kafka broker (KRaft, broker and controller in one process) for development "
                + "and tests. Prints `kafka ready bootstrap=HOST:PORT` once it accepts connections; stops on SIGTERM/SIGINT.")
public final class KafkaCommand implements Callable<Integer> {
    @Option(names = "--data", description = "Kafka log directory, formatted on first use. Default: $HOLDFAST_HOME/data/kafka or ./data/kafka")
    Path data;
    @Option(names = "--port", description = "Client port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port = 9092;
    // Loopback by default: this broker has no authentication, so exposing it must be a deliberate choice.
    @Option(names = "--host", description = "Address to bind and advertise to clients (default ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Override
    public Integer call() throws Exception {
        Path dir = data != null ? data : defaultDataDir();
        WalDirectory.checkWritable(dir); // the broker's own error would name neither the directory nor the reason
        EmbeddedKafka kafka = new EmbeddedKafka(dir, host, port);
        try {
            EmbeddedKafka.serveUntilShutdown(kafka, System.out);
        } catch (Exception e) {
            kafka.close(); // a half-started broker is stopped before ErrorReporter reports the failure
            throw e;
        }
        return 0;
    }

    /** Next to the intake's data (see IntakeConfig), so one HOLDFAST_HOME holds everything. */
    private static Path defaultDataDir() {
        String home = System.getenv("HOLDFAST_HOME");
        return home == null || home.isBlank() ? Path.of("data", "kafka") : Path.of(home, "data", "kafka");
    }
}
