package dev.holdfast.cli;

import dev.holdfast.intake.auth.Tokens;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `holdfast token`: the lines an operator puts in the intake's token file. */
class TokenCommandTest {

    private static CliErrorsTest.Run withStdin(String stdin, String... args) {
        InputStream realIn = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            return CliErrorsTest.run(args);
        } finally {
            System.setIn(realIn);
        }
    }

    @Test
    void hashPrintsTheTokenFileLineFromATokenOnStandardInput() {
        CliErrorsTest.Run r = withStdin("s3cret-token\n", "token", "hash", "gw", "--agents", "edge-*,lab-?");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(Tokens.hash("s3cret-token") + " gw edge-* lab-?\n", r.stdout());
        assertFalse(r.stdout().contains("s3cret"));
        assertEquals(Tokens.hash("s3cret-token") + "\n", withStdin("s3cret-token", "token", "hash").stdout());
        // the known SHA-256 of "abc", so the file format does not depend on this code alone
        assertEquals("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
                withStdin("abc\n", "token", "hash").stdout());
    }

    @Test
    void generatePrintsADifferentLongTokenEachTime() {
        String a = CliErrorsTest.run("token", "generate").stdout().strip();
        String b = CliErrorsTest.run("token", "generate").stdout().strip();
        assertEquals(43, a.length(), a);
        assertNotEquals(a, b);
    }

    @Test
    void intakeRefusesABadTokenFileInOneLineNamingFileAndLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path tokens = java.nio.file.Files.writeString(tmp.resolve("tokens"),
                "# agents\n" + Tokens.hash("x") + " agent-7\nplaintext-token agent-8\n");
        CliErrorsTest.Run r = CliErrorsTest.run("intake", "--data", tmp.resolve("data").toString(), "--grpc-port", "0", "--otlp-http-port", "0",
                "--http-port", "0", "--kafka", "none", "--auth-tokens", tokens.toString());
        assertEquals(List.of("holdfast intake: invalid configuration: auth.tokens: " + tokens + ":3: the first field is"
                + " not sha256:<64 hex digits> (a token's hash; make one with 'holdfast token hash'; a plaintext token"
                + " is not accepted)"), r.reportLines(), r.toString());
        assertEquals(2, r.exitCode());
    }

    @Test
    void mistakesAreOneLineAndExitCode2() {
        CliErrorsTest.Run empty = withStdin("", "token", "hash", "gw");
        assertEquals(List.of("holdfast token hash: standard input: no token on its first line"), empty.reportLines());
        assertEquals(2, empty.exitCode());
        CliErrorsTest.Run spaced = withStdin("t\n", "token", "hash", "a b");
        assertEquals(List.of("holdfast token hash: \"a b\": identities and globs are 1..4096 printable characters"
                + " without spaces"), spaced.reportLines());
        assertEquals(2, spaced.exitCode());
    }
}
