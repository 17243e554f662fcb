package dev.holdfast.cli;

import dev.holdfast.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

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
                TokenCommand.class, CommandLine.HelpCommand.class})
public final class HoldfastCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // Inherited: accepted after any subcommand too. ErrorReporter reads it from the parse result, where it is
    // recorded at whichever level it was given.
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On an error, also print the Java stack trace (always printed for internal errors)")
    boolean debug;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The command line as {@code main} runs it: failures become one line and an exit code ({@link ErrorReporter}). */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new HoldfastCommand())
                .setExecutionStrategy(ErrorReporter::execute)
                .setExecutionExceptionHandler(new ErrorReporter());
        documentExitCodes(cli);
        return cli;
    }

    private static void documentExitCodes(CommandLine command) {
        command.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.help());
        command.getSubcommands().values().forEach(HoldfastCommand::documentExitCodes);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
