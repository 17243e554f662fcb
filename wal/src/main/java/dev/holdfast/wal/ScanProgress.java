package dev.holdfast.wal;

/**
 * How far a scan of the WAL's segment files has got ({@code wal verify}, {@code dump}, {@code replay}): bytes of the
 * files read so far out of the total size of the files it will read. Called once per record or damaged place, from
 * the scanning thread; a listener that draws keeps its own pace.
 */
@FunctionalInterface
public interface ScanProgress {
    ScanProgress NONE = (done, total) -> { };

    void scanned(long bytesDone, long bytesTotal);
}
