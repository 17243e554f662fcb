package dev.holdfast.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The few parts of Chronicle Wire's binary encoding that the WAL reads byte by byte, where it checks a segment's own
 * structures (the file header's write position and index fields, the index arrays) instead of trusting Chronicle,
 * which does. Everything here is bounds-checked against damaged input: a value that cannot be read is -1 (or null),
 * never an exception.
 *
 * <p>The encoding, as far as it is needed: a field is 0xC0 + the length of its name, the name, optional padding
 * (0x8F single bytes, or 0x8E and a 4-byte count of bytes to skip), then the value: a small int below 0x80, a fixed
 * width integer (0xA1..0xA7), or an int64 array (0x8D, capacity, used, then capacity values). Little endian.
 */
final class ChronicleWire {
    static final int INT64_ARRAY = 0x8D;
    /** Type byte, capacity and used, before the values. */
    static final int ARRAY_HEADER_BYTES = 17;

    private ChronicleWire() {
    }

    static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Where {@code needle} first occurs in {@code hay} at or after {@code from}, or -1. */
    static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = Math.max(0, from); i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }

    /** Skips padding from {@code p}: where the next value starts, or -1 when the padding runs off the end. */
    static int skipPadding(byte[] bytes, int p) {
        ByteBuffer b = littleEndian(bytes);
        while (p >= 0 && p < bytes.length) {
            int code = bytes[p] & 0xff;
            if (code == 0x8F) {
                p++;
            } else if (code == 0x8E && p + 5 <= bytes.length) {
                int n = b.getInt(p + 1);
                if (n < 0 || n > bytes.length) {
                    return -1;
                }
                p += 5 + n;
            } else {
                return p;
            }
        }
        return -1;
    }

    /**
     * Where the int64 array that follows a field name ending at {@code from} starts (its type byte), or -1 when no
     * array header fits there; the caller checks capacity and used against what it needs.
     */
    static int int64Array(byte[] bytes, int from) {
        int p = skipPadding(bytes, from);
        if (p < 0 || p + ARRAY_HEADER_BYTES > bytes.length || (bytes[p] & 0xff) != INT64_ARRAY) {
            return -1;
        }
        return p;
    }

    /** A named numeric field (small ints, int8/16/32/64, unsigned 8/16/32) anywhere in {@code header}, or -1. */
    static long field(byte[] header, byte[] name) {
        int at = indexOf(header, name, 0);
        if (at < 1 || (header[at - 1] & 0xff) != (0xC0 | name.length)) {
            return -1;
        }
        int p = skipPadding(header, at + name.length);
        if (p < 0 || p >= header.length) {
            return -1;
        }
        ByteBuffer b = littleEndian(header);
        int code = header[p] & 0xff;
        int left = header.length - p - 1;
        if (code < 0x80) {
            return code;
        }
        return switch (code) {
            case 0xA1 -> left >= 1 ? header[p + 1] & 0xff : -1;
            case 0xA2 -> left >= 2 ? b.getShort(p + 1) & 0xffff : -1;
            case 0xA3 -> left >= 4 ? b.getInt(p + 1) & 0xffffffffL : -1;
            case 0xA4 -> left >= 1 ? header[p + 1] : -1;
            case 0xA5 -> left >= 2 ? b.getShort(p + 1) : -1;
            case 0xA6 -> left >= 4 ? b.getInt(p + 1) : -1;
            case 0xA7 -> left >= 8 ? b.getLong(p + 1) : -1;
            default -> -1;
        };
    }
}
