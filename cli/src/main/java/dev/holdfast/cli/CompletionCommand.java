package dev.holdfast.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/**
 * The shell completion script for every command, subcommand and option, generated from the same command model the CLI
 * parses with, so it cannot drift. The build writes it to {@code cli/target/holdfast-completion.bash} too.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a bash completion script for holdfast (zsh too, after 'autoload bashcompinit && "
                + "bashcompinit'). Try: source <(holdfast completion)")
public final class CompletionCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.print(AutoComplete.bash("holdfast", HoldfastCommand.commandLine()));
        out.flush();
        return 0;
    }
}
