package dev.holdfast.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The completion script, loaded into a real bash and asked what it would complete. */
class CompletionCommandTest {
    @TempDir
    Path tmp;

    @Test
    void bashCompletesCommandsSubcommandsOptionsAndTheirValues() throws Exception {
        assertEquals(List.of("intake"), complete("holdfast", "in"));
        assertEquals(List.of("verify"), complete("holdfast", "wal", "ve"));
        assertEquals(List.of("--durability"), complete("holdfast", "intake", "--dur"));
        assertEquals(List.of("text", "json"), complete("holdfast", "intake", "--log-format", ""));
        assertEquals(List.of("debug"), complete("holdfast", "shipper", "--log-level", "de"));
        assertTrue(complete("holdfast", "").containsAll(List.of("node", "intake", "shipper", "wal", "bench", "kafka",
                "token", "validate", "completion")), complete("holdfast", "").toString());
    }

    /** COMPREPLY for the words typed so far, the last one being completed. */
    private List<String> complete(String... words) throws Exception {
        StringWriter script = new StringWriter();
        CommandLine cli = HoldfastCommand.commandLine("completion");
        cli.setOut(new PrintWriter(script));
        assertEquals(0, cli.execute("completion"));
        Path file = Files.writeString(tmp.resolve("holdfast-completion.bash"), script.toString());
        StringBuilder array = new StringBuilder();
        for (String w : words) {
            array.append(" '").append(w).append('\'');
        }
        String line = String.join(" ", words);
        // compopt only works inside a real completion; the script's calls to it change nothing that is checked here
        String bash = "source " + file + "; compopt() { :; }; COMP_WORDS=(" + array + "); COMP_CWORD="
                + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=" + line.length()
                + "; _complete_holdfast; printf '%s\\n' \"${COMPREPLY[@]}\"";
        Process p = new ProcessBuilder("bash", "-c", bash).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> !l.isEmpty()).toList();
    }
}
