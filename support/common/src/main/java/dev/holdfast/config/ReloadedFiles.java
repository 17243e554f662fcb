package dev.holdfast.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Objects;

/**
 * Files loaded together into one value (a certificate and its key, a CA bundle, a token file) and loaded again when
 * their content changes, the last good value kept when the new content cannot be used. This is how every file
 * Holdfast re-reads at run time behaves, so that a bad push is never an outage (last known good).
 *
 * <p>Content is compared by hash, not by modification time: a Kubernetes secret volume replaces its files by swapping
 * a {@code ..data} symlink, which leaves the paths' own times unchanged, and an edit within the same second keeps the
 * time too. A refusal is reported once per new content (and an unreadable file once until it is readable again), not
 * at every check. The caller decides when to check (a scheduler, or the call path) and what to log; nothing here
 * quotes a file's content, which may be a secret.
 *
 * @param <T> what the files are parsed into
 */
public final class ReloadedFiles<T> {
    /** Turns the files' contents, in the order of the paths, into the value; throws when they cannot be used. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(byte[][] contents) throws Exception;
    }

    /** A file that could not be read; the message is one line naming it and why. */
    public static final class UnreadableFileException extends IOException {
        private final transient Path file;
        private final String reason;

        UnreadableFileException(Path file, String reason, IOException cause) {
            super(file + ": " + reason, cause);
            this.file = file;
            this.reason = reason;
        }

        public Path file() {
            return file;
        }

        /** The message without the file name. */
        public String reason() {
            return reason;
        }
    }

    /** What a {@link #check()} found. */
    public sealed interface Check<T> {
    }

    /** The content is the one last tried (good, or already refused and reported). */
    public record Unchanged<T>() implements Check<T> {
    }

    /** New content, parsed and now {@link #value()}. */
    public record Loaded<T>(T value) implements Check<T> {
    }

    /**
     * New content that cannot be used; the last good value stays.
     *
     * @param cause an {@link UnreadableFileException} when a file could not be read, else what the parser threw
     */
    public record Refused<T>(Exception cause) implements Check<T> {
    }

    private final List<Path> paths;
    private final Parser<T> parser;
    private volatile T value;
    /** Hash of the content last tried, good or bad; guarded by this. */
    private byte[] lastTried;

    private ReloadedFiles(List<Path> paths, Parser<T> parser) {
        this.paths = List.copyOf(paths);
        this.parser = Objects.requireNonNull(parser, "parser");
        if (this.paths.isEmpty()) {
            throw new IllegalArgumentException("no files to watch");
        }
    }

    /**
     * Loads the files now. At start there is no last good value to fall back on, so a file that cannot be read or
     * used is the caller's error to report.
     *
     * @throws UnreadableFileException naming the file that cannot be read
     * @throws Exception   whatever the parser throws
     */
    public static <T> ReloadedFiles<T> load(List<Path> paths, Parser<T> parser) throws Exception {
        ReloadedFiles<T> files = new ReloadedFiles<>(paths, parser);
        byte[][] contents = files.read();
        files.value = parser.parse(contents);
        files.lastTried = hash(contents);
        return files;
    }

    public List<Path> paths() {
        return paths;
    }

    /** The last good value. */
    public T value() {
        return value;
    }

    /** Reads the files and takes their content if it changed and can be used. */
    public synchronized Check<T> check() {
        byte[][] contents;
        try {
            contents = read();
        } catch (IOException e) {
            // e.g. a file replaced by delete-then-create, caught in between: tried again at the next check
            return refused(("unreadable: " + e.getMessage()).getBytes(java.nio.charset.StandardCharsets.UTF_8), e);
        }
        byte[] h = hash(contents);
        if (MessageDigest.isEqual(h, lastTried)) {
            return new Unchanged<>();
        }
        T parsed;
        try {
            parsed = parser.parse(contents);
        } catch (Exception e) {
            return refused(h, e);
        }
        lastTried = h;
        value = parsed;
        return new Loaded<>(parsed);
    }

    private Check<T> refused(byte[] h, Exception cause) {
        if (MessageDigest.isEqual(h, lastTried)) {
            return new Unchanged<>(); // reported once for this content already
        }
        lastTried = h;
        return new Refused<>(cause);
    }

    private byte[][] read() throws UnreadableFileException {
        byte[][] out = new byte[paths.size()][];
        for (int i = 0; i < out.length; i++) {
            Path p = paths.get(i);
            try {
                out[i] = Files.readAllBytes(p);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new UnreadableFileException(p, "no such file", e);
            } catch (java.nio.file.AccessDeniedException e) {
                throw new UnreadableFileException(p, "permission denied", e);
            } catch (IOException e) {
                throw new UnreadableFileException(p, "cannot read: " + e, e);
            }
        }
        return out;
    }

    private static byte[] hash(byte[][] contents) {
        try {
            MessageDigest all = MessageDigest.getInstance("SHA-256");
            for (byte[] c : contents) {
                // each file hashed apart, so that bytes moving from one file to the next are a change
                all.update(MessageDigest.getInstance("SHA-256").digest(c));
            }
            return all.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
