package dev.holdfast.wal;

import net.openhft.chronicle.queue.impl.StoreFileListener;

import java.io.File;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which segment files Chronicle currently has acquired (mapped for an appender or a tailer). Retention must not
 * delete those: unlinking a mapped file frees no space, and a reader still walking it would lose its place.
 */
final class MappedSegments implements StoreFileListener {
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

    boolean isMapped(String fileName) {
        return acquired.containsKey(fileName);
    }
}
