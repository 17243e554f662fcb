package dev.holdfast.intake.otlp;

import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Undoes gzip (RFC 1952, one member or several concatenated) into at most {@code limit} bytes. The output grows as
 * inflation produces it, never beyond the limit, whatever size the body claims (its trailer's ISIZE is only checked,
 * never used to allocate); inflation stops at the first byte past the limit. A gzip bomb costs the limit and the time
 * to inflate that much, no more. Each member's CRC-32 and length are checked.
 *
 * <p>Not {@code GZIPInputStream}: it silently drops bytes after a member that are not another member, and its
 * errors ("Corrupt GZIP trailer") do not tell a sender what is wrong; this answers 400 naming it. The deflate itself
 * is the JDK's {@link Inflater}.
 */
final class Gunzip {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;
    private static final int RESERVED = 0xE0;

    /** The body inflates to more than the limit; nothing past it was produced. */
    static final class TooLargeException extends Exception {
        TooLargeException() {
            super(null, null, false, false);
        }
    }

    /** Not gzip, or damaged: the message says where. */
    static final class DamagedException extends Exception {
        DamagedException(String message) {
            super(message, null, false, false);
        }
    }

    private Gunzip() {
    }

    static byte[] inflate(byte[] gz, int limit) throws TooLargeException, DamagedException {
        if (gz.length == 0) {
            throw new DamagedException("the body is empty");
        }
        Inflater inflater = new Inflater(true); // raw deflate: the gzip header and trailer are read here
        try {
            Output out = new Output(limit, gz.length);
            byte[] probe = new byte[1];
            int pos = 0;
            while (pos < gz.length) {
                pos = header(gz, pos);
                int start = out.size;
                inflater.reset();
                inflater.setInput(gz, pos, gz.length - pos);
                while (!inflater.finished()) {
                    int n;
                    if (out.full()) {
                        // the limit is reached: one more byte out of this member would be past it
                        n = inflater.inflate(probe);
                        if (n > 0) {
                            throw new TooLargeException();
                        }
                    } else {
                        int room = out.room(); // first: it may replace the array
                        n = inflater.inflate(out.buf, out.size, room);
                        out.size += n;
                    }
                    if (n == 0 && !inflater.finished()) {
                        if (inflater.needsInput()) {
                            throw new DamagedException("the compressed data ends early (truncated body?)");
                        }
                        if (inflater.needsDictionary()) {
                            throw new DamagedException("the compressed data asks for a preset dictionary");
                        }
                    }
                }
                pos = gz.length - inflater.getRemaining();
                pos = trailer(gz, pos, out.buf, start, out.size);
            }
            return Arrays.copyOf(out.buf, out.size);
        } catch (DataFormatException e) {
            throw new DamagedException("the compressed data is damaged: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    /** The inflated bytes so far, in an array that grows by doubling up to the limit. */
    private static final class Output {
        final int limit;
        byte[] buf;
        int size;

        Output(int limit, int compressed) {
            this.limit = limit;
            // a guess that is right for typical OTLP payloads (a few times smaller compressed); the array grows anyway
            this.buf = new byte[(int) Math.min(limit, Math.max(8192L, compressed * 4L))];
        }

        boolean full() {
            return size == limit;
        }

        /** Room for more output, growing the array when it is full but the limit is not reached. */
        int room() {
            if (size == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(limit, buf.length * 2L));
            }
            return buf.length - size;
        }
    }

    /** Reads a member header at {@code pos}; returns where its compressed data starts. */
    private static int header(byte[] gz, int pos) throws DamagedException {
        if (gz.length - pos < 10) {
            throw new DamagedException("a gzip header is cut short at byte " + pos);
        }
        if ((gz[pos] & 0xff) != 0x1f || (gz[pos + 1] & 0xff) != 0x8b) {
            throw new DamagedException(pos == 0 ? "not gzip (no gzip magic number)"
                    : "bytes after the gzip data at byte " + pos + " are not another gzip member");
        }
        if (gz[pos + 2] != 8) {
            throw new DamagedException("gzip compression method " + (gz[pos + 2] & 0xff) + " is not deflate (8)");
        }
        int flags = gz[pos + 3] & 0xff;
        if ((flags & RESERVED) != 0) {
            throw new DamagedException("gzip header has reserved flags set");
        }
        int p = pos + 10;
        if ((flags & FEXTRA) != 0) {
            if (gz.length - p < 2) {
                throw new DamagedException("a gzip header is cut short in its extra field");
            }
            p += 2 + ((gz[p] & 0xff) | (gz[p + 1] & 0xff) << 8);
        }
        if ((flags & FNAME) != 0) {
            p = afterZero(gz, p);
        }
        if ((flags & FCOMMENT) != 0) {
            p = afterZero(gz, p);
        }
        if ((flags & FHCRC) != 0) {
            p += 2;
        }
        if (p > gz.length) {
            throw new DamagedException("a gzip header is cut short");
        }
        return p;
    }

    private static int afterZero(byte[] gz, int p) throws DamagedException {
        while (p < gz.length && gz[p] != 0) {
            p++;
        }
        if (p >= gz.length) {
            throw new DamagedException("a gzip header is cut short in its file name or comment");
        }
        return p + 1;
    }

    /** Checks the member trailer at {@code pos} against the bytes it inflated to; returns where the next member is. */
    private static int trailer(byte[] gz, int pos, byte[] out, int from, int to) throws DamagedException {
        if (gz.length - pos < 8) {
            throw new DamagedException("the gzip trailer is cut short (truncated body?)");
        }
        CRC32 crc = new CRC32();
        crc.update(out, from, to - from);
        if ((int) crc.getValue() != le32(gz, pos)) {
            throw new DamagedException("the gzip CRC-32 does not match the inflated data");
        }
        if (to - from != le32(gz, pos + 4)) { // ISIZE is the length mod 2^32; members here are under 2 GiB
            throw new DamagedException("the gzip length field does not match the inflated data");
        }
        return pos + 8;
    }

    private static int le32(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }
}
