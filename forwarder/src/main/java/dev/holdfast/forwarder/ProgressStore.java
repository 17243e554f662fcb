package dev.holdfast.forwarder;

import dev.holdfast.wal.WalDirectory;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What Kafka has confirmed, kept in RocksDB next to the WAL: the confirmed index ranges and the highest index ever
 * sent. Both are written in one synced WriteBatch, so after a crash the forwarder resends exactly the window that
 * was in flight or confirmed after the last save, nothing more and nothing less.
 */
public final class ProgressStore implements AutoCloseable {
    private static final byte[] RANGES = "confirmed-ranges".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HIGHEST_SENT = "highest-sent".getBytes(StandardCharsets.US_ASCII);

    static {
        RocksDB.loadLibrary();
    }

    /** What a previous run saved. */
    public record Saved(List<long[]> confirmed, long highestSent) {
    }

    private final Options options;
    private final RocksDB db;
    private final WriteOptions synced;

    public ProgressStore(Path dir) throws IOException {
        WalDirectory.checkWritable(dir); // createDirectories alone fails with a bare path (AccessDeniedException: DIR)
        Files.createDirectories(dir);
        // The store holds two small values. RocksDB's defaults size it for bulk data: a 64 MiB memtable whose log
        // file it preallocates at 1.1 x that size, plus a 4 MiB manifest. On the WAL's own disk (a tmpfs in the
        // chaos suite) that is ~75 MiB taken before a single record is written; these keep it to ~2 MiB.
        options = new Options().setCreateIfMissing(true).setKeepLogFileNum(2)
                .setWriteBufferSize(1L << 20)
                .setMaxTotalWalSize(4L << 20)
                .setManifestPreallocationSize(64L << 10);
        try {
            db = RocksDB.open(options, dir.toString());
        } catch (RocksDBException e) {
            options.close();
            throw new IOException("cannot open forwarder progress store " + dir + ": " + e.getMessage(), e);
        }
        synced = new WriteOptions().setSync(true);
    }

    public Saved load() throws IOException {
        try {
            byte[] r = db.get(RANGES);
            byte[] h = db.get(HIGHEST_SENT);
            List<long[]> ranges = new java.util.ArrayList<>();
            if (r != null) {
                ByteBuffer b = ByteBuffer.wrap(r);
                while (b.remaining() >= 16) {
                    ranges.add(new long[]{b.getLong(), b.getLong()});
                }
            }
            return new Saved(ranges, h == null ? -1 : ByteBuffer.wrap(h).getLong());
        } catch (RocksDBException e) {
            throw new IOException("cannot read forwarder progress: " + e.getMessage(), e);
        }
    }

    public void save(List<long[]> confirmed, long highestSent) throws IOException {
        ByteBuffer r = ByteBuffer.allocate(confirmed.size() * 16);
        for (long[] range : confirmed) {
            r.putLong(range[0]).putLong(range[1]);
        }
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(RANGES, r.array());
            batch.put(HIGHEST_SENT, ByteBuffer.allocate(8).putLong(highestSent).array());
            db.write(synced, batch);
        } catch (RocksDBException e) {
            throw new IOException("cannot save forwarder progress: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        synced.close();
        db.close();
        options.close();
    }
}
