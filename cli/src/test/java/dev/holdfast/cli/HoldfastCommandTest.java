package dev.holdfast.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Only the subcommand a command line names is built (picocli's model of all of them costs a restart ~0.3 s). */
class HoldfastCommandTest {
    private static final Set<String> ALL = Set.of("node", "intake", "shipper", "wal", "bench", "kafka", "token", "help");

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
}
