package dev.holdfast.wal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checkpoints of {@link AgentSequences} with the WAL index they cover, so a restart replays only the records
 * appended since the last checkpoint instead of the whole WAL. Written atomically (temp file, fsync, rename); a
 * damaged or missing checkpoint just means a longer scan.
 */
final class SequenceSnapshots {
    private static final Logger log = LoggerFactory.getLogger(SequenceSnapshots.class);
    /**
     * "HFS2": held seqs as unsigned ranges plus per-agent content checksums. Format 1 ("HFSQ", a signed
     * contiguous prefix that an agent's acknowledged_through could raise) is ignored: the WAL is scanned instead.
     */
    private static final int MAGIC = 0x48465332;
    private static final int MAGIC_V1 = 0x48465351;
    static final String FILE = "agent-sequences.snapshot";

    record Loaded(AgentSequences sequences, long coversThroughIndex) {
    }

    private final Path file;
    /** The index the checkpoint on disk covers through, as this process last read or wrote it; -1 for none. */
    private volatile long writtenThrough = -1;

    SequenceSnapshots(Path dir) {
        this.file = dir.resolve(FILE);
    }

    /** Encodes and writes a checkpoint on this thread; see {@link #encode} and {@link #write}. */
    long save(AgentSequences sequences, long coversThroughIndex) {
        byte[] body = encode(sequences, coversThroughIndex);
        return body == null ? 0 : write(body);
    }

    /**
     * The checkpoint's body, in memory: taken on the thread that appends, it covers exactly the records appended.
     *
     * @return null when there is nothing to cover yet
     */
    byte[] encode(AgentSequences sequences, long coversThroughIndex) {
        if (coversThroughIndex < 0) {
            return null;
        }
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(body)) {
                out.writeInt(MAGIC);
                out.writeLong(coversThroughIndex);
                sequences.writeTo(out);
            }
            return body.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("into memory", e); // a ByteArrayOutputStream does not fail
        }
    }

    /**
     * Writes a body from {@link #encode} with its CRC atomically (temp file, fsync, rename).
     *
     * @return the checkpoint's size in bytes, or 0 when it could not be written
     */
    long write(byte[] bytes) {
        try {
            ChecksummedFile.write(file, bytes);
            writtenThrough = ByteBuffer.wrap(bytes, 4, 8).getLong(); // after MAGIC: see encode
            return bytes.length + 4L;
        } catch (IOException e) {
            log.warn("could not checkpoint agent sequences (the next start scans more of the WAL): {}", e.toString());
            return 0;
        }
    }

    Loaded load() {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            byte[] body = ChecksummedFile.read(file, 12);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
                int magic = in.readInt();
                if (magic == MAGIC_V1) {
                    log.info("checkpoint {} has the old format 1; rebuilding agent sequences from the whole WAL", file);
                    return null;
                }
                if (magic != MAGIC) {
                    throw new IOException("bad magic");
                }
                long covers = in.readLong();
                Loaded loaded = new Loaded(AgentSequences.readFrom(in), covers);
                writtenThrough = covers;
                return loaded;
            }
        } catch (IOException e) {
            log.warn("ignoring unreadable checkpoint {} ({}); rebuilding from the whole WAL", file, e.getMessage());
            return null;
        }
    }

    /**
     * The WAL index the checkpoint on disk covers through, -1 for none: a start reads every record after it, so
     * what it covers is what walk marks may cover ({@link SegmentVerifier}).
     */
    long writtenThrough() {
        return writtenThrough;
    }

    void delete() throws IOException {
        writtenThrough = -1;
        Files.deleteIfExists(file);
    }
}
