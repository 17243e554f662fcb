package dev.holdfast.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only the subcommand a command line names is built (picocli's model of all of them costs a restart ~0.3 s). */
class HoldfastCommandTest {
    private static final Set<String> ALL = Set.of("node", "intake", "shipper", "status", "wal", "bench", "kafka", "token",
            "help", "validate", "completion");

    private static Set<String> built(String... args) {
        return HoldfastCommand.commandLine(args).getSubcommands().keySet();
    }

    @Test
    void aNamedSubcommandIsTheOnlyOneBuiltEvenAfterAGlobalOption() {
        assertEquals(Set.of("intake"), built("intake", "--data", "d"));
        assertEquals(Set.of("wal"), built("--debug", "wal", "ls", "--data", "d"));
    }

    @Test
    void anythingElseGetsEverySubcommandForUsageAndSuggestions() {
        for (List<String> args : List.of(List.<String>of(), List.of("--help"), List.of("intkae"), List.of("help", "wal"))) {
            assertEquals(ALL, built(args.toArray(String[]::new)), args.toString());
        }
        assertEquals(ALL, HoldfastCommand.commandLine().getSubcommands().keySet());
    }

    @Test
    void everyCommandWithAVersionOptionPrintsThePomsVersion() {
        String version = HoldfastVersion.version();
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+.*"), "the build filled in the pom's version: " + version);
        List<List<String>> paths = new ArrayList<>();
        collect(HoldfastCommand.commandLine(), new ArrayList<>(), paths);
        assertTrue(paths.size() >= 18, "every command and subcommand: " + paths);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--version");
            String[] argv = args.toArray(String[]::new);
            StringWriter out = new StringWriter();
            CommandLine cli = HoldfastCommand.commandLine(argv);
            cli.setOut(new PrintWriter(out));
            assertEquals(0, cli.execute(argv), args.toString());
            assertEquals("holdfast " + version, out.toString().trim(), args.toString());
        }
    }

    /** The path of subcommand names to every command that has a --version option. */
    private static void collect(CommandLine command, List<String> path, List<List<String>> out) {
        if (command.getCommandSpec().findOption("--version") != null) {
            out.add(List.copyOf(path));
        }
        command.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandName().equals(name)) { // not an alias a second time
                List<String> next = new ArrayList<>(path);
                next.add(name);
                collect(sub, next, out);
            }
        });
    }
}
