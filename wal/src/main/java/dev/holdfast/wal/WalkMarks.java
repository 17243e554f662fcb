package dev.holdfast.wal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far each segment's headers were last found intact, so that a start walks only what was appended since
 * instead of every header of the WAL (issue 15: a restart bounded whatever the WAL's size).
 *
 * <p>A mark is written by {@link SegmentVerifier} after a walk of this run found a segment intact from its first
 * byte to {@code position} (record {@code ordinal} starts there), Chronicle's index included. What it cannot vouch
 * for is bytes that rot after that walk: the start checks the part of Chronicle's index the mark covers against the
 * mark's digest (a seek by index must never land on the wrong record), walks the headers after the mark, and the
 * verifier walks every segment whole again once the intake is ready. Damage it finds there removes the mark, so
 * the next start walks and repairs that segment; until then readers pass it as they pass damage that appears while
 * the intake runs ({@link WalReader}).
 *
 * <p>The file is {@link ChecksummedFile}: unreadable, it is ignored and every segment is walked whole.
 */
final class WalkMarks {
    private static final Logger log = LoggerFactory.getLogger(WalkMarks.class);
    static final String FILE = "walk-marks";
    private static final int MAGIC = 0x48464d31; // "HFM1"

    /**
     * @param position    where the walk stopped: the start of the document after the last intact record
     * @param ordinal     the ordinal (number in its cycle) of the record that starts at {@code position}
     * @param indexDigest {@link SegmentIndexCheck#digest} of Chronicle's index for records before {@code ordinal}
     */
    record Mark(long position, long ordinal, long indexDigest) {
    }

    private final Path file;

    WalkMarks(Path dir) {
        this.file = dir.resolve(FILE);
    }

    /** The marks by segment file name; empty when there are none or the file cannot be trusted. */
    Map<String, Mark> load() {
        Map<String, Mark> marks = new TreeMap<>();
        if (!Files.exists(file)) {
            return marks;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(ChecksummedFile.read(file, 8)))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("bad magic");
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                Mark m = new Mark(in.readLong(), in.readLong(), in.readLong());
                if (m.position() <= 0 || m.ordinal() < 0) {
                    throw new IOException("mark of " + name + " out of range: " + m);
                }
                marks.put(name, m);
            }
            return marks;
        } catch (IOException e) {
            log.warn("ignoring unreadable {} ({}); every WAL segment is walked whole", file, e.getMessage());
            return new TreeMap<>();
        }
    }

    /** Replaces the marks; a mark that cannot be written only means a longer walk at the next start. */
    void save(Map<String, Mark> marks) {
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(body)) {
                out.writeInt(MAGIC);
                out.writeInt(marks.size());
                for (Map.Entry<String, Mark> e : marks.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeLong(e.getValue().position());
                    out.writeLong(e.getValue().ordinal());
                    out.writeLong(e.getValue().indexDigest());
                }
            }
            ChecksummedFile.write(file, body.toByteArray());
        } catch (IOException e) {
            log.warn("could not write {} (the next start walks more of the WAL): {}", file, e.toString());
        }
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
