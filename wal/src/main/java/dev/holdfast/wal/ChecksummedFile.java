package dev.holdfast.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A small file of the WAL's own (a checkpoint, the walk marks) written whole and atomically: body, then its CRC32C,
 * to a temporary file that is fsync'ed and renamed over the old one. A crash leaves the old file or the new one,
 * and bit rot is caught on reading.
 */
final class ChecksummedFile {
    private ChecksummedFile() {
    }

    static void write(Path file, byte[] body) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(body);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(body));
            ch.write(ByteBuffer.allocate(4).putInt(0, (int) crc.getValue()));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The body as written; IOException naming the problem when the file is too short or fails its checksum. */
    static byte[] read(Path file, int minBodyBytes) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < minBodyBytes + 4) {
            throw new IOException("too short");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        if (ByteBuffer.wrap(all, all.length - 4, 4).getInt() != (int) crc.getValue()) {
            throw new IOException("checksum mismatch");
        }
        return java.util.Arrays.copyOf(all, all.length - 4);
    }
}
