package dev.holdfast.cli.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code holdfast bench}: load and baseline measurements. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks: load-generate against an intake, or measure the disk's own fsync baseline.",
        subcommands = {IngestBenchCommand.class, DiskBenchCommand.class, ForwardBenchCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a benchmark: ingest or disk");
    }
}
