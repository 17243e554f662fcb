package dev.holdfast.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * The disk's own sequential write + fdatasync throughput: what a WAL could reach at best if it
 * synced after every block. The WAL benchmark reports itself as a ratio of this.
 */
final class DiskBaseline {

    private final LongSupplier clock;

    DiskBaseline(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * Writes {@code totalBytes} in blocks of {@code blockBytes} to a fresh file in {@code dir},
     * forcing data (not metadata, i.e. fdatasync) after each block, then deletes the file.
     */
    Result measure(Path dir, int blockBytes, long totalBytes) throws IOException {
        if (blockBytes < 1 || totalBytes < blockBytes) {
            throw new IllegalArgumentException("need 1 <= block-bytes <= total-bytes");
        }
        Files.createDirectories(dir);
        Path file = Files.createTempFile(dir, "holdfast-disk-baseline-", ".tmp");
        ByteBuffer block = ByteBuffer.allocateDirect(blockBytes);
        // random content so compressing or deduplicating storage cannot flatter the result
        SplittableRandom random = new SplittableRandom(7);
        while (block.remaining() >= Long.BYTES) {
            block.putLong(random.nextLong());
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long blocks = totalBytes / blockBytes;
            long start = clock.getAsLong();
            for (long i = 0; i < blocks; i++) {
                block.clear();
                while (block.hasRemaining()) {
                    channel.write(block);
                }
                channel.force(false);
            }
            long elapsed = Math.max(1, clock.getAsLong() - start);
            return Result.of(dir.toString(), blockBytes, blocks * blockBytes, blocks, elapsed / 1e9);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Rates are components (not derived getters) so the JSON report carries them too. */
    record Result(String dir, int blockBytes, long bytesWritten, long fsyncs, double seconds,
                  double megabytesPerSecond, double fsyncsPerSecond) {

        static Result of(String dir, int blockBytes, long bytesWritten, long fsyncs, double seconds) {
            return new Result(dir, blockBytes, bytesWritten, fsyncs, seconds, bytesWritten / 1e6 / seconds,
                    fsyncs / seconds);
        }

        String toText() {
            return String.format(Locale.ROOT,
                    "disk baseline %s: %,d bytes in %,d-byte blocks, write+fdatasync each: %.1f MB/s, %,.0f fsyncs/s (%.2f s)%n",
                    dir, bytesWritten, blockBytes, megabytesPerSecond, fsyncsPerSecond, seconds);
        }

        void writeJson(Path file) {
            try {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }
}
