package dev.holdfast.chaos;

import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ChaosHome;
import dev.holdfast.chaos.harness.ChaosReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code holdfast chaos}: runs the chaos scenarios against real Holdfast processes on this machine (loopback only),
 * so an operator can rehearse failures on a staging node; the CI suite runs the same scenarios.
 */
@Command(name = "holdfast chaos", mixinStandardHelpOptions = true,
        description = {"Kills, freezes, partitions and starves real intake, Kafka and shipper processes on loopback "
                + "and proves that nothing acknowledged is lost.",
                "Exit 0 when every scenario held, 1 when a guarantee broke, 2 on usage errors."})
public final class ChaosCommand implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "NAME", description = "Run only these (repeatable): intake-kills, "
            + "kafka-outage, partitions, disk-full, frozen-intake, dns-loss, torn-wal-tail, shipper-kill, bitrot. "
            + "Default: all.")
    List<String> scenarios;

    @Option(names = "--soak", paramLabel = "MINUTES", defaultValue = "0",
            description = "Run the scenarios longer (fault durations and kill counts scaled up) to fill about this "
                    + "many minutes; 0 = the CI durations (about 7 minutes in all).")
    double soakMinutes;

    @Option(names = "--seed", description = "Seed of the random fault schedule (printed; replays a run). Default: random.")
    Long seed;

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "chaos-report.md",
            description = "Markdown report (a JSON line per scenario goes to FILE.jsonl). Default: ${DEFAULT-VALUE}.")
    Path reportFile;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the processes keep their data. Default: a new temporary directory.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        List<Scenario> selected = scenarios == null || scenarios.isEmpty() ? Scenarios.all()
                : scenarios.stream().map(Scenarios::named).toList();
        long s = seed != null ? seed : System.nanoTime();
        // the CI durations add up to ~7 minutes; a soak stretches every fault and kill count by the same factor
        double factor = soakMinutes <= 0 ? 1 : Math.max(1, soakMinutes / 7.0 * Scenarios.all().size() / selected.size());
        Path work = workDir != null ? workDir : Files.createTempDirectory("holdfast-chaos");
        System.out.printf("holdfast chaos: seed %d (replay with --seed %d), soak factor %.1f, work dir %s%n", s, s,
                factor, work);
        ChaosReport report = new ChaosReport(reportFile, "Seed " + s + ", soak factor " + factor + ".");
        try (ChaosContext ctx = ChaosContext.open(ChaosHome.locate(), work, s, factor, System.out)) {
            ChaosRunner runner = new ChaosRunner(ctx, report);
            for (Scenario scenario : selected) {
                runner.run(scenario);
            }
        }
        System.out.println("report: " + report.markdown());
        return report.allPassed() ? 0 : 1;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ChaosCommand()).execute(args));
    }
}
