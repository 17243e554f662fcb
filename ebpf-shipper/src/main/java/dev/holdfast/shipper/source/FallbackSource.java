package dev.holdfast.shipper.source;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.shipper.ebpf.Filters;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The degraded source for machines where eBPF cannot load: the JDK {@link WatchService} on every directory
 * under the include prefixes (walked at start; directories that appear later are registered as they do).
 *
 * <p>What it cannot do, compared with the eBPF probe:
 * <ul>
 *   <li>No process context: pid, tid, ppid, uid, gid, comm, cgroup are 0/empty, so {@code excludeComms} and
 *       excluding the shipper's own writes are impossible; inode, dev and mode are not filled in either.</li>
 *   <li>Only CREATE (MKDIR for directories), MODIFY, UNLINK (RMDIR for a directory that was being watched).
 *       No OPEN, no CLOSE_WRITE; chmod/chown show up as MODIFY (the JDK maps IN_ATTRIB to ENTRY_MODIFY).</li>
 *   <li>No rename pairing: a rename is an UNLINK of the old name and a CREATE of the new one.</li>
 *   <li>Event time is when the watcher thread saw the event, not when the syscall ran.</li>
 *   <li>Lossy under load: an inotify queue overflow loses events (counted as "overflow", nothing is made up);
 *       a full hand-over queue drops events (counted as "queue_full"). A directory created and filled before
 *       it is registered is scanned, and its entries are reported as CREATE/MKDIR: they may also arrive as
 *       inotify events, i.e. twice.</li>
 *   <li>On Linux the JDK uses inotify, bounded by {@code fs.inotify.max_user_watches} (one watch per
 *       directory); on other platforms the JDK may fall back to polling every few seconds.</li>
 * </ul>
 */
public final class FallbackSource implements EventSource {
    /** Events handed over per {@link #poll} call at most, so one call cannot hold the caller indefinitely. */
    private static final int MAX_PER_POLL = 10_000;

    private final PathFilter filter;
    private final WatchService watcher;
    private final Map<WatchKey, Path> dirs = new ConcurrentHashMap<>();
    /** Every directory registered, until its DELETE is handled (kept past its key's end to report RMDIR). */
    private final Map<Path, WatchKey> watchedPaths = new ConcurrentHashMap<>();
    private final BlockingQueue<Event> queue;
    private final Thread thread;
    private final AtomicLong seen = new AtomicLong();
    private final AtomicLong filtered = new AtomicLong();
    private final AtomicLong emitted = new AtomicLong();
    private final AtomicLong overflow = new AtomicLong();
    private final AtomicLong queueFull = new AtomicLong();
    private volatile boolean running = true;

    private FallbackSource(Filters filters, int queueCapacity) throws IOException {
        this.filter = new PathFilter(filters);
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.watcher = FileSystems.getDefault().newWatchService();
        this.thread = new Thread(this::watchLoop, "holdfast-fallback-watcher");
        this.thread.setDaemon(true);
    }

    /**
     * Registers every directory under {@code filters.includePrefixes()} (each must name an existing
     * directory; excluded subtrees are skipped) and starts the watcher thread.
     *
     * @param queueCapacity events buffered between the watcher thread and {@link #poll}; more are dropped
     * @throws IOException when an include prefix is not an existing directory or the WatchService fails
     */
    public static FallbackSource start(Filters filters, int queueCapacity) throws IOException {
        if (filters.includePrefixes().isEmpty()) {
            // Watching "everything" would mean one inotify watch per directory of the whole machine.
            throw new IllegalArgumentException("the fallback source needs at least one include prefix to watch");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queueCapacity must be positive, got " + queueCapacity);
        }
        FallbackSource s = new FallbackSource(filters, queueCapacity);
        try {
            for (String prefix : filters.includePrefixes()) {
                Path root = Path.of(prefix);
                if (!Files.isDirectory(root)) {
                    throw new NoSuchFileException(prefix, null, "not an existing directory; cannot watch it");
                }
                s.registerTree(root, false);
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        s.thread.start();
        return s;
    }

    @Override
    public int poll(EventSink sink, int timeoutMillis) {
        Event first;
        try {
            first = queue.poll(Math.max(0, timeoutMillis), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        if (first == null) {
            return 0;
        }
        List<Event> rest = new ArrayList<>();
        queue.drainTo(rest, MAX_PER_POLL - 1);
        sink.event(first);
        rest.forEach(sink::event);
        emitted.addAndGet(1 + rest.size());
        return 1 + rest.size();
    }

    @Override
    public String name() {
        return "fallback";
    }

    /** seen (inotify events), filtered, emitted (handed to poll's sink), overflow, queue_full, watched_dirs (current). */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("seen", seen.get());
        m.put("filtered", filtered.get());
        m.put("emitted", emitted.get());
        m.put("overflow", overflow.get());
        m.put("queue_full", queueFull.get());
        m.put("watched_dirs", (long) dirs.size());
        return m;
    }

    /** Stops the watcher thread and closes the WatchService (releasing every inotify watch). Idempotent. */
    @Override
    public void close() {
        running = false;
        try {
            watcher.close(); // wakes the thread out of take()
        } catch (IOException ignored) {
            // closing releases the inotify fd; nothing to do if that fails
        }
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void watchLoop() {
        while (running) {
            WatchKey key;
            try {
                key = watcher.take();
            } catch (ClosedWatchServiceException | InterruptedException e) {
                return;
            }
            Path dir = dirs.get(key);
            for (WatchEvent<?> ev : key.pollEvents()) {
                if (ev.kind() == OVERFLOW) {
                    overflow.incrementAndGet();
                } else if (dir != null) {
                    seen.incrementAndGet();
                    handle(ev.kind(), dir.resolve((Path) ev.context()));
                }
            }
            if (!key.reset()) { // the directory is gone or no longer accessible
                dirs.remove(key);
            }
        }
    }

    private void handle(WatchEvent.Kind<?> kind, Path child) {
        boolean isDir = Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS);
        if (kind == ENTRY_CREATE) {
            if (isDir && filter.descendInto(child.toString())) {
                emit(FileEvent.Kind.MKDIR, child, true);
                try {
                    registerTree(child, true);
                } catch (IOException | ClosedWatchServiceException e) {
                    // vanished again, or we are closing: nothing left to watch there
                }
            } else {
                emit(isDir ? FileEvent.Kind.MKDIR : FileEvent.Kind.CREATE, child, isDir);
            }
        } else if (kind == ENTRY_MODIFY) {
            emit(FileEvent.Kind.MODIFY, child, isDir);
        } else if (kind == ENTRY_DELETE) {
            boolean wasDir = watchedPaths.containsKey(child);
            if (wasDir) {
                forget(child);
            }
            emit(wasDir ? FileEvent.Kind.RMDIR : FileEvent.Kind.UNLINK, child, wasDir);
        }
    }

    /**
     * Drops the watches of a directory that left its place and of everything below it. A watch follows the
     * inode, so a directory renamed elsewhere would go on reporting under its old path; its new name, when
     * inside the tree, is registered afresh by the CREATE of the rename.
     */
    private void forget(Path dir) {
        for (Map.Entry<Path, WatchKey> e : watchedPaths.entrySet()) {
            if (e.getKey().startsWith(dir)) {
                e.getValue().cancel();
                dirs.remove(e.getValue());
                watchedPaths.remove(e.getKey());
            }
        }
    }

    /** Registers {@code start} and every directory below it; {@code report}: emit what is found below it. */
    private void registerTree(Path start, boolean report) throws IOException {
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(start) && !filter.descendInto(dir.toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (!watchedPaths.containsKey(dir)) {
                    WatchKey key = dir.register(watcher, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
                    watchedPaths.put(dir, key);
                    dirs.put(key, dir);
                }
                if (report && !dir.equals(start)) {
                    emit(FileEvent.Kind.MKDIR, dir, true);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (report) {
                    emit(FileEvent.Kind.CREATE, file, false);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // vanished or unreadable: there is nothing to watch
            }
        });
    }

    private void emit(FileEvent.Kind kind, Path path, boolean dir) {
        String p = path.toString();
        if (!filter.passes(p, dir)) {
            filtered.incrementAndGet();
            return;
        }
        Instant now = Instant.now();
        Event e = Event.newBuilder()
                .setTimeUnixNano(now.getEpochSecond() * 1_000_000_000L + now.getNano())
                .setFile(FileEvent.newBuilder().setKind(kind).setPath(p).setSource("fallback"))
                .build();
        if (!queue.offer(e)) { // never wait: a blocked watcher would let the inotify queue overflow instead
            queueFull.incrementAndGet();
        }
    }
}
