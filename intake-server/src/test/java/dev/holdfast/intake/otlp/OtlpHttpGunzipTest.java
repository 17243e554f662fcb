package dev.holdfast.intake.otlp;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Gunzip}, the bounded inflation OTLP/HTTP bodies go through. */
class OtlpHttpGunzipTest {

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    @Test
    void inflatesWhatGzipOutputStreamWrote() throws Exception {
        for (int n : new int[]{0, 1, 8191, 8192, 100_000, 1 << 20}) {
            byte[] data = random(n);
            assertArrayEquals(data, Gunzip.inflate(gzip(data), 1 << 20), "size " + n);
        }
        byte[] text = "the quick brown fox ".repeat(50_000).getBytes(); // compresses well: the output array grows
        assertArrayEquals(text, Gunzip.inflate(gzip(text), 1 << 20));
    }

    @Test
    void exactlyTheLimitIsTakenAndOneMoreByteIsNot() throws Exception {
        byte[] data = random(5000);
        assertArrayEquals(data, Gunzip.inflate(gzip(data), 5000));
        assertThrows(Gunzip.TooLargeException.class, () -> Gunzip.inflate(gzip(data), 4999));
    }

    @Test
    void concatenatedMembersAreOneBody() throws Exception {
        byte[] a = random(3000);
        byte[] b = "second member".getBytes();
        byte[] both = concat(gzip(a), gzip(b));
        assertArrayEquals(concat(a, b), Gunzip.inflate(both, 1 << 20));
        // the limit counts the members together
        assertThrows(Gunzip.TooLargeException.class, () -> Gunzip.inflate(both, 3005));
    }

    @Test
    void headerFieldsAreSkipped() throws Exception {
        byte[] data = "payload".getBytes();
        byte[] plain = gzip(data);
        // FEXTRA (2 bytes), FNAME "f.pb", FCOMMENT "c", FHCRC: inserted after the 10-byte fixed header
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        h.write(plain, 0, 10);
        h.write(new byte[]{2, 0, 'x', 'y'});
        h.write(new byte[]{'f', '.', 'p', 'b', 0});
        h.write(new byte[]{'c', 0});
        h.write(new byte[]{0, 0});
        h.write(plain, 10, plain.length - 10);
        byte[] withFields = h.toByteArray();
        withFields[3] = 4 | 8 | 16 | 2;
        assertArrayEquals(data, Gunzip.inflate(withFields, 100));
    }

    @Test
    void damageIsNamed() throws Exception {
        byte[] gz = gzip(random(10_000));
        assertEquals("the body is empty", damage(new byte[0]));
        assertEquals("not gzip (no gzip magic number)", damage("{\"resourceLogs\":[]}".getBytes()));
        assertEquals("a gzip header is cut short at byte 0", damage(Arrays.copyOf(gz, 5)));
        assertEquals("the compressed data ends early (truncated body?)", damage(Arrays.copyOf(gz, gz.length - 100)));
        assertEquals("the gzip trailer is cut short (truncated body?)", damage(Arrays.copyOf(gz, gz.length - 4)));
        byte[] badCrc = gz.clone();
        badCrc[gz.length - 8] ^= 1;
        assertEquals("the gzip CRC-32 does not match the inflated data", damage(badCrc));
        byte[] badSize = gz.clone();
        badSize[gz.length - 1] ^= 1;
        assertEquals("the gzip length field does not match the inflated data", damage(badSize));
        assertEquals("bytes after the gzip data at byte " + gz.length + " are not another gzip member",
                damage(concat(gz, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})));
        byte[] badData = gz.clone();
        badData[10] = (byte) 0xff; // the first deflate block header: reserved block type 11
        assertTrue(damage(badData).startsWith("the compressed data is damaged: "), damage(badData));
    }

    @Test
    void aBombCostsTheLimitNotWhatItClaims() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) gz.write(zeros); // 256 MiB of zeros in about 256 KiB
        }
        byte[] bomb = out.toByteArray();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        Gunzip.inflate(gzip(new byte[10]), 100); // warm up: class loading allocates too
        long before = threads.getThreadAllocatedBytes(thread);
        long t0 = System.nanoTime();
        assertThrows(Gunzip.TooLargeException.class, () -> Gunzip.inflate(bomb, 1 << 20));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        // the 1 MiB output (grown by doubling, so at most about twice that in arrays) and small change; not 256 MiB
        assertTrue(allocated < 4L << 20, allocated + " bytes allocated");
        assertTrue(millis < 1000, millis + " ms");
    }

    private static String damage(byte[] body) {
        return assertThrows(Gunzip.DamagedException.class, () -> Gunzip.inflate(body, 1 << 20)).getMessage();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
