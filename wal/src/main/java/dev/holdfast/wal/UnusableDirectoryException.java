package dev.holdfast.wal;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A directory Holdfast cannot use, found before anything was written to it. The message is one line,
 * {@code PATH: REASON}, meant for an operator (e.g. {@code /proc/holdfast: on a pseudo-filesystem (proc); choose a
 * directory on a real disk}).
 */
public final class UnusableDirectoryException extends FileSystemException {
    private static final long serialVersionUID = 1L;

    public UnusableDirectoryException(Path path, String reason) {
        super(path.toString(), null, reason);
    }
}
