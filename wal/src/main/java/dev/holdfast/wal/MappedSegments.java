package dev.holdfast.wal;

import net.openhft.chronicle.queue.impl.StoreFileListener;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which segment files are still mapped (by an appender or a tailer). Retention must not delete those: unlinking a
 * mapped file frees no space, and a reader still walking it would lose its place.
 *
 * <p>Chronicle's acquire/release callbacks are one source, but they arrive asynchronously (releases run on its
 * background releaser, and a store another holder already has open may be handed out without a fresh acquire), so
 * they can briefly say "not mapped" while a reader holds the file. The kernel's list of this process's mappings is
 * authoritative, so a file counts as mapped when either says so.
 */
final class MappedSegments implements StoreFileListener {
    private static final Path SELF_MAPS = Path.of("/proc/self/maps");

    private final Map<String, Integer> acquired = new ConcurrentHashMap<>();

    @Override
    public boolean isActive() {
        return true;
    }

    @Override
    public void onAcquired(int cycle, File file) {
        acquired.merge(file.getName(), 1, Integer::sum);
    }

    @Override
    public void onReleased(int cycle, File file) {
        acquired.computeIfPresent(file.getName(), (k, n) -> n <= 1 ? null : n - 1);
    }

    boolean isMapped(Path file) throws IOException {
        if (acquired.containsKey(file.getFileName().toString())) {
            return true;
        }
        if (!Files.isReadable(SELF_MAPS) || !Files.exists(file)) {
            return false;
        }
        // Each line ends with the mapped file's canonical path; " (deleted)" follows it only once unlinked.
        String wanted = " " + file.toRealPath();
        for (String line : Files.readAllLines(SELF_MAPS, StandardCharsets.ISO_8859_1)) {
            if (line.endsWith(wanted)) {
                return true;
            }
        }
        return false;
    }
}
