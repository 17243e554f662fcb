package dev.holdfast.intake.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bearer tokens of a token file. The file holds each token's SHA-256, never the token: a leaked file (a backup, a
 * config repository) does not let anyone send. One entry per line:
 *
 * <pre>
 * # comment
 * sha256:&lt;64 hex digits&gt;  &lt;identity&gt;  [&lt;agent-id glob&gt; ...]
 * </pre>
 * <p>
 * The identity may send as itself, as the globs on its line, and as auth.agents grants it.
 */
public final class Tokens {
    public static final Tokens EMPTY = new Tokens(List.of());
    private static final String PREFIX = "sha256:";
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7e]{1,4096}");

    /**
     * @param globs the agentIds, compiled once here rather than at every call
     * @param line  where it was read, for messages
     */
    record Entry(byte[] sha256, String identity, List<String> agentIds, List<Pattern> globs, int line) {
    }

    /** A token file that cannot be used, with the line that says why. */
    public static final class InvalidException extends Exception {
        InvalidException(String message) {
            super(message);
        }
    }

    private final List<Entry> entries;

    private Tokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public int size() {
        return entries.size();
    }

    /** "sha256:&lt;hex&gt;" of a token: what a token file holds for it. */
    public static String hash(String token) {
        return PREFIX + HexFormat.of().formatHex(sha256(token));
    }

    /**
     * The entry of a presented token, or null. Every entry is compared, in constant time each, so the time taken
     * says nothing about which entry, or how much of a hash, matched.
     */
    Entry find(String token) {
        byte[] presented = sha256(token);
        Entry found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(presented, e.sha256()) && found == null) {
                found = e;
            }
        }
        return found;
    }

    /** @param source names the file in messages, e.g. its path */
    static Tokens parse(String source, String text) throws InvalidException {
        List<Entry> entries = new ArrayList<>();
        Set<String> hashes = new HashSet<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String at = source + ":" + (i + 1) + ": ";
            String[] f = line.split("\\s+");
            if (f.length < 2) {
                throw new InvalidException(at + "expected 'sha256:<64 hex digits> <identity> [agent-id glob ...]'");
            }
            if (!f[0].startsWith(PREFIX) || f[0].length() != PREFIX.length() + 64
                    || !f[0].substring(PREFIX.length()).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                // never quote the field: it could be a plaintext token pasted by mistake
                throw new InvalidException(at + "the first field is not sha256:<64 hex digits> (a token's hash; make"
                        + " one with 'holdfast token hash'; a plaintext token is not accepted)");
            }
            if (!hashes.add(f[0].toLowerCase())) {
                throw new InvalidException(at + "the same token hash is on an earlier line; a token has one identity");
            }
            List<String> globs = new ArrayList<>();
            for (int j = 1; j < f.length; j++) {
                if (!NAME.matcher(f[j]).matches()) {
                    throw new InvalidException(at + "field " + (j + 1) + " must be 1..4096 printable characters");
                }
                if (j > 1) {
                    globs.add(f[j]);
                }
            }
            entries.add(new Entry(HexFormat.of().parseHex(f[0].substring(PREFIX.length())), f[1], globs,
                    globs.stream().map(AgentGlob::compile).toList(), i + 1));
        }
        return new Tokens(entries);
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
