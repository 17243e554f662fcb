package dev.holdfast.wal;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;

/**
 * Checks a data directory before Chronicle (or RocksDB) touches it. Left to them, a directory Holdfast cannot use
 * surfaces deep inside as a bare path ({@code AccessDeniedException: /var/lib/holdfast/wal}) or, under /proc, as a
 * mkdir that "does not exist" ({@code NoSuchFileException: /proc/holdfast}). These checks name the path and the
 * reason in one line ({@link UnusableDirectoryException}) instead.
 *
 * <p>They read permissions with access(2), so they answer for this process's user and capabilities (root passes
 * the permission checks, as it would the real operations).
 */
public final class WalDirectory {
    /**
     * File systems that are views of kernel state, not storage: a WAL there fails to be created, or writes into
     * the kernel. tmpfs is not among them: it is real (if volatile) storage, and the chaos suite uses it.
     */
    static final Set<String> PSEUDO_FILESYSTEMS = Set.of("proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2",
            "debugfs", "tracefs", "securityfs", "bpf", "pstore", "configfs", "efivarfs", "binfmt_misc", "fusectl",
            "mqueue");

    private WalDirectory() {
    }

    /**
     * For a directory this process will write (the intake's data and WAL directories, the forwarder's progress
     * store, the shipper's spool): it exists, or its nearest existing ancestor lets this process create it; it is
     * a directory this process may read, write and search; and it is on a real, writable file system. Creates
     * nothing.
     */
    public static void checkWritable(Path dir) throws UnusableDirectoryException {
        Path path = dir.toAbsolutePath().normalize();
        Path existing = nearestExisting(path);
        FileStore store = fileStore(existing);
        refusePseudoFilesystem(path, store);
        requireDirectory(path, existing);
        if (store != null && store.isReadOnly()) {
            throw new UnusableDirectoryException(path, "on a read-only file system");
        }
        if (!existing.equals(path)) {
            if (!Files.isWritable(existing) || !Files.isExecutable(existing)) {
                throw new UnusableDirectoryException(existing,
                        "permission denied (needs write and search to create " + path + ")");
            }
            return;
        }
        if (!Files.isReadable(path) || !Files.isWritable(path) || !Files.isExecutable(path)) {
            throw new UnusableDirectoryException(path, "permission denied (needs read, write and search)");
        }
    }

    /**
     * For a directory this process will only read (the operator tools): it exists, is a directory this process may
     * read and search, and is not on a pseudo-filesystem. Whether it holds a WAL is for the reader to say.
     */
    public static void checkReadable(Path dir) throws UnusableDirectoryException {
        Path path = dir.toAbsolutePath().normalize();
        Path existing = nearestExisting(path);
        refusePseudoFilesystem(path, fileStore(existing));
        requireDirectory(path, existing);
        if (!existing.equals(path)) {
            throw new UnusableDirectoryException(path, "no such directory");
        }
        if (!Files.isReadable(path) || !Files.isExecutable(path)) {
            throw new UnusableDirectoryException(path, "permission denied (needs read and search)");
        }
    }

    /**
     * The path itself or its closest ancestor that exists. An ancestor that exists but does not let this process
     * look inside (stat of its child refused) is reported here: nothing below it can be checked or used.
     */
    private static Path nearestExisting(Path path) throws UnusableDirectoryException {
        boolean childRefused = false;
        for (Path p = path; p != null; p = p.getParent()) {
            try {
                Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                childRefused = false;
                continue;
            } catch (AccessDeniedException e) {
                childRefused = true;
                continue;
            } catch (FileSystemException e) {
                // e.g. "Not a directory": a regular file on the way, which the walk up finds and names
                childRefused = false;
                continue;
            } catch (IOException e) {
                throw new UnusableDirectoryException(p, e.getMessage());
            }
            if (childRefused) {
                throw new UnusableDirectoryException(p, "permission denied (needs search to reach " + path + ")");
            }
            return p;
        }
        throw new UnusableDirectoryException(path, "no part of this path exists"); // not even the root: unreachable
    }

    private static void requireDirectory(Path path, Path existing) throws UnusableDirectoryException {
        if (Files.isDirectory(existing)) {
            return;
        }
        throw new UnusableDirectoryException(existing,
                existing.equals(path) ? "not a directory" : "not a directory (on the way to " + path + ")");
    }

    private static void refusePseudoFilesystem(Path path, FileStore store) throws UnusableDirectoryException {
        if (store != null && PSEUDO_FILESYSTEMS.contains(store.type())) {
            throw new UnusableDirectoryException(path,
                    "on a pseudo-filesystem (" + store.type() + "); choose a directory on a real disk");
        }
    }

    /** Null when the platform cannot say: the checks that need it are then skipped, the others still apply. */
    private static FileStore fileStore(Path existing) {
        try {
            return Files.getFileStore(existing);
        } catch (IOException e) {
            return null;
        }
    }
}
