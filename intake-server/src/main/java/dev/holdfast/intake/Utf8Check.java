package dev.holdfast.intake;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Whether bytes are well-formed UTF-8, by the rules protobuf-java applies to a proto3 {@code string} (its
 * {@code Utf8.decodeUtf8}, package-private there): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF, no stray or missing continuation bytes. Checks without decoding, so nothing is allocated.
 */
final class Utf8Check {
    /** Eight bytes at once, for skipping ASCII: most strings (paths, comm, attribute keys) are ASCII throughout. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8Check() {
    }

    /** Whether {@code bytes[from, to)} is well-formed UTF-8. */
    static boolean isValid(byte[] bytes, int from, int to) {
        int i = from;
        while (i + 8 <= to && ((long) LONGS.get(bytes, i) & HIGH_BITS) == 0) {
            i += 8;
        }
        while (i < to) {
            byte b1 = bytes[i];
            if (b1 >= 0) { // ASCII, by far the most common: paths, comm, attribute keys
                i++;
            } else if (b1 < (byte) 0xE0) { // two bytes: C2..DF (C0, C1 would be overlong; 80..BF are continuations)
                if (b1 < (byte) 0xC2 || i + 1 >= to || notTrailing(bytes[i + 1])) {
                    return false;
                }
                i += 2;
            } else if (b1 < (byte) 0xF0) { // three bytes: E0 needs A0..BF (overlong), ED needs 80..9F (surrogates)
                if (i + 2 >= to) {
                    return false;
                }
                byte b2 = bytes[i + 1];
                if (notTrailing(b2) || (b1 == (byte) 0xE0 && b2 < (byte) 0xA0)
                        || (b1 == (byte) 0xED && b2 >= (byte) 0xA0) || notTrailing(bytes[i + 2])) {
                    return false;
                }
                i += 3;
            } else { // four bytes: F0 needs 90..BF (overlong), F4 needs 80..8F (over U+10FFFF), F5..FF never
                if (i + 3 >= to) {
                    return false;
                }
                byte b2 = bytes[i + 1];
                // protobuf's own test: zero exactly for F0 90..BF, F1..F3 80..BF, F4 80..8F
                if (notTrailing(b2) || (((b1 << 28) + (b2 - (byte) 0x90)) >> 30) != 0
                        || notTrailing(bytes[i + 2]) || notTrailing(bytes[i + 3])) {
                    return false;
                }
                i += 4;
            }
        }
        return true;
    }

    /** Not of the form 10xxxxxx; as a signed byte, a continuation is -128..-65. */
    private static boolean notTrailing(byte b) {
        return b > (byte) 0xBF;
    }
}
