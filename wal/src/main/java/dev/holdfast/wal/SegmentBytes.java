package dev.holdfast.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Read-only access to a segment file through ordinary reads, never a memory mapping: a damaged or truncated file
 * can then only yield wrong bytes or a short read, never a SIGBUS or an "unsafe memory access" error. A small
 * read-ahead buffer keeps a sequential walk cheap.
 */
final class SegmentBytes implements AutoCloseable {
    private static final int BUFFER = 256 << 10;
    /**
     * A read that lands more than a page past the buffer reads only {@link #HEAD} bytes instead of refilling the
     * whole buffer: a header walk over large records then reads each record's head (its Chronicle header and the
     * fields {@link RecordCodec#structureFits} checks), not every byte of the segment. A 20 GB WAL of 100 KB records
     * is 200,000 small reads of about 4 us each from the page cache, not 20 GB of copying. Small records lie within
     * a page of each other and still share one large read.
     */
    private static final int PAGE = 4096;
    /** What a far read fetches: a record's head with an agent id of up to ~950 bytes (a longer one reads again). */
    private static final int HEAD = 1024;

    private final FileChannel channel;
    private final long size;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private long bufferStart = 0;
    private int bufferLength = 0;

    SegmentBytes(Path file) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.size = channel.size();
    }

    /** The file's length when opened; nothing beyond it is read. */
    long size() {
        return size;
    }

    /** The little-endian int at {@code position}; the caller keeps {@code position + 4 <= size()}. */
    int intAt(long position) throws IOException {
        if (position < bufferStart || position + 4 > bufferStart + bufferLength) {
            boolean far = position > bufferStart + bufferLength + PAGE;
            fill(position, far ? HEAD : BUFFER);
            if (bufferLength < 4) {
                throw new IOException("short read at byte " + position);
            }
        }
        return buffer.getInt((int) (position - bufferStart));
    }

    /** Copies {@code length} bytes from {@code position} (within the file). */
    byte[] read(long position, int length) throws IOException {
        byte[] out = new byte[length];
        if (position >= bufferStart && position + length <= bufferStart + bufferLength) {
            buffer.get((int) (position - bufferStart), out, 0, length);
            return out;
        }
        if (length < BUFFER / 2) {
            fill(position, BUFFER);
            if (bufferLength >= length) {
                buffer.get(0, out, 0, length);
                return out;
            }
        }
        ByteBuffer dst = ByteBuffer.wrap(out);
        long at = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                throw new IOException("short read at byte " + at);
            }
            at += n;
        }
        return out;
    }

    private void fill(long position, int want) throws IOException {
        buffer.clear();
        buffer.limit((int) Math.min(want, Math.max(0, size - position)));
        bufferStart = position;
        bufferLength = 0;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n <= 0) {
                break;
            }
        }
        bufferLength = buffer.position();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
