package dev.holdfast.cli;

import dev.holdfast.intake.auth.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;

/** Bearer tokens for the intake's auth.tokens file (docs/SECURITY-auth.md). */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Make bearer tokens and the lines of the intake's token file (auth.tokens, --auth-tokens).",
        subcommands = {TokenCommand.Generate.class, TokenCommand.Hash.class})
public final class TokenCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Print a new random token (256 bits, base64url): give it to the agent, and its hash "
                    + "(holdfast token hash) to the intake.")
    static final class Generate implements Callable<Integer> {
        @Override
        public Integer call() {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            System.out.println(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
            return 0;
        }
    }

    @Command(name = "hash", mixinStandardHelpOptions = true,
            description = "Read a token from the first line of standard input (never from the command line, where "
                    + "ps and the shell history would show it) and print its token-file line: "
                    + "sha256:<hex> IDENTITY [AGENT-ID-GLOB...]; without IDENTITY, the hash alone.")
    static final class Hash implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "IDENTITY",
                description = "The identity the token stands for; it may send as this agent id")
        String identity;
        @Option(names = "--agents", split = ",", paramLabel = "GLOB",
                description = "Further agent ids it may send as: globs, * any characters, ? one (e.g. edge-*)")
        List<String> agents = List.of();

        @Override
        public Integer call() throws IOException {
            String token = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (token == null || token.strip().isEmpty()) {
                throw new OperatorError(2, "standard input: no token on its first line", null);
            }
            if (identity == null && !agents.isEmpty()) {
                throw new OperatorError(2, "--agents needs an IDENTITY", null);
            }
            for (String name : identity == null ? agents : concat(identity, agents)) {
                if (!name.matches("[\\x21-\\x7e]{1,4096}")) {
                    throw new OperatorError(2, "\"" + name.replaceAll("\\p{Cntrl}", "?")
                            + "\": identities and globs are 1..4096 printable characters without spaces", null);
                }
            }
            // stripped as the intake strips what follows "Bearer "
            String line = Tokens.hash(token.strip());
            if (identity != null) {
                line += " " + String.join(" ", concat(identity, agents));
            }
            System.out.println(line);
            return 0;
        }

        private static List<String> concat(String first, List<String> rest) {
            java.util.ArrayList<String> all = new java.util.ArrayList<>(List.of(first));
            all.addAll(rest);
            return all;
        }
    }
}
