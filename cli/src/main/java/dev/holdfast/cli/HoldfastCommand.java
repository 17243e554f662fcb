package dev.holdfast.cli;

import dev.holdfast.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single `holdfast` command; each subcommand lives in its own class. */
@Command(name = "holdfast",
        mixinStandardHelpOptions = true,
        version = "holdfast 0.1.0",
        description = "Resilient telemetry intake with disk-first persistence.",
        // the chaos suite is its own jar (chaos-tests/, which depends on this module); the launcher routes to it
        footer = {"  chaos    Kill, freeze, partition and starve real Holdfast processes on",
                "             this machine and prove nothing acknowledged is lost",
                "             (./holdfast chaos --help, docs/CHAOS.md)."},
        subcommands = {NodeCommand.class, IntakeCommand.class, ShipperCommand.class, WalCommand.class, BenchCommand.class, KafkaCommand.class,
                CommandLine.HelpCommand.class})
public final class HoldfastCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new HoldfastCommand()).execute(args));
    }
}
