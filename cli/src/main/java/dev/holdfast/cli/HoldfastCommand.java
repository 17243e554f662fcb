package dev.holdfast.cli;

import dev.holdfast.cli.bench.BenchCommand;
import dev.holdfast.config.LogSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** The single `holdfast` command; each subcommand lives in its own class. */
@Command(name = "holdfast",
        mixinStandardHelpOptions = true,
        versionProvider = HoldfastVersion.class,
        description = "Resilient telemetry intake with disk-first persistence.",
        // the chaos suite is its own jar (chaos-tests/, which depends on this module); the launcher routes to it
        footer = {"  chaos    Kill, freeze, partition and starve real Holdfast processes on",
                "             this machine and prove nothing acknowledged is lost",
                "             (./holdfast chaos --help, docs/CHAOS.md)."})
public final class HoldfastCommand implements Runnable {
    /**
     * The subcommands, in the order help lists them. Not in the annotation: picocli would then build the model of
     * every one (hundreds of options, by reflection) on every start, about 0.3 s of a restarted intake's time to
     * ready; {@link #commandLine(String...)} adds only the one a command line names.
     */
    private static final List<Subcommand> SUBCOMMANDS = List.of(
            new Subcommand(NodeCommand.class, NodeCommand::new),
            new Subcommand(IntakeCommand.class, IntakeCommand::new),
            new Subcommand(ShipperCommand.class, ShipperCommand::new),
            new Subcommand(StatusCommand.class, StatusCommand::new),
            new Subcommand(WalCommand.class, WalCommand::new),
            new Subcommand(BenchCommand.class, BenchCommand::new),
            new Subcommand(KafkaCommand.class, KafkaCommand::new),
            new Subcommand(TokenCommand.class, TokenCommand::new),
            new Subcommand(ValidateCommand.class, ValidateCommand::new),
            new Subcommand(CompletionCommand.class, CompletionCommand::new),
            new Subcommand(CommandLine.HelpCommand.class, CommandLine.HelpCommand::new));

    /** A subcommand's class (its {@code @Command} names it) and how to make one. */
    private record Subcommand(Class<?> type, Supplier<Object> create) {
        String name() {
            return type.getAnnotation(Command.class).name();
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // Inherited: accepted after any subcommand too. ErrorReporter reads it from the parse result, where it is
    // recorded at whichever level it was given.
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On an error, also print the Java stack trace (always printed for internal errors)")
    boolean debug;

    // Inherited too; read from the parse result by Logging.Flags, like --debug.
    @Option(names = Logging.FORMAT_FLAG, scope = ScopeType.INHERIT, paramLabel = "text|json",
            converter = Logging.FormatConverter.class, completionCandidates = Logging.FormatNames.class,
            description = "Log lines on stderr as text (default) or one JSON object per line (config log.format)")
    LogSettings.Format logFormat;
    @Option(names = Logging.LEVEL_FLAG, scope = ScopeType.INHERIT, paramLabel = "error|warn|info|debug|trace",
            converter = Logging.LevelConverter.class, completionCandidates = Logging.LevelNames.class,
            description = "Least severe level logged (default info; config log.level)")
    LogSettings.Level logLevel;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The command line with every subcommand (help, completion, tests). */
    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * The command line as {@code main} runs it for {@code args}: failures become one line and an exit code
     * ({@link ErrorReporter}). When the first argument that is not an option names a subcommand, only that one is
     * built; anything else (no subcommand, a misspelt one, {@code help}) gets all of them, for usage and suggestions.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new HoldfastCommand());
        String named = subcommandNamed(args);
        List<Subcommand> wanted = SUBCOMMANDS.stream().filter(c -> c.name().equals(named)).toList();
        for (Subcommand c : wanted.isEmpty() || named.equals("help") ? SUBCOMMANDS : wanted) {
            cli.addSubcommand(c.name(), c.create().get());
        }
        cli.setExecutionStrategy(HoldfastCommand::execute).setExecutionExceptionHandler(new ErrorReporter());
        describeEverywhere(cli, new HoldfastVersion());
        return cli;
    }

    /** The first argument that is not an option: the subcommand, when the command line names one. */
    private static String subcommandNamed(String... args) {
        return Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse(null);
    }

    /** Every command, subcommands of subcommands too: the exit codes in its help, and the build's --version. */
    private static void describeEverywhere(CommandLine command, CommandLine.IVersionProvider version) {
        command.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.help());
        command.getCommandSpec().versionProvider(version);
        command.getSubcommands().values().forEach(c -> describeEverywhere(c, version));
    }

    /**
     * Logging as the flags say, then the command ({@link ErrorReporter#execute}). A command that reads a config file
     * applies its {@code log} section itself, under the same flags.
     */
    private static int execute(CommandLine.ParseResult parsed) {
        Logging.Flags flags = Logging.Flags.of(parsed);
        if (flags.format() != null || flags.level() != null) {
            Logging.apply(flags.over(LogSettings.DEFAULTS));
        }
        return ErrorReporter.execute(parsed);
    }

    public static void main(String[] args) {
        // Logging first, on this thread: while SLF4J initialises, every other thread asking for a logger gets a
        // stand-in, and flags applied meanwhile would be lost. Then the warm-up, so that it runs beside picocli's
        // model and the config.
        org.slf4j.LoggerFactory.getILoggerFactory();
        ChronicleWarmup.startFor(subcommandNamed(args), args);
        System.exit(commandLine(args).execute(args));
    }
}
