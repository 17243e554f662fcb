package dev.holdfast.forwarder.deadletter;

import dev.holdfast.wal.WalDirectory;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Every dead letter this node produced, appended and synced to {@code dead-letters.log} in the forwarder's
 * directory: the list operators read ({@code holdfast wal dead-letters}), the source {@code wal replay
 * --dead-letters} sends again from, and the only copy of those the dead-letter topic refused too.
 *
 * <p>An entry is {@code magic, body length, CRC32C(body), body}. A crash mid-append leaves a torn tail, which the
 * next open cuts off (that entry's record was not confirmed, so it is dead-lettered again); damage anywhere else
 * costs the damaged entry only: the reader resynchronises at the next magic whose entry checks out, reports where
 * it stepped over damage, and the file keeps it (appends go after it).
 */
public final class DeadLetterFile implements AutoCloseable {
    public static final String NAME = "dead-letters.log";
    private static final int MAGIC = 0x48464431; // "HFD1"
    private static final int HEAD = 12;
    /** Far above any event the intake lets in (its limits keep events under Kafka's request size). */
    private static final int MAX_BODY = 256 << 20;
    /** The error text is cut to this many characters (Kafka's messages can be long); nothing else is cut. */
    private static final int MAX_TEXT = 4096;

    /**
     * What a read found: the entries, the damaged places it stepped over, and where the next append goes (after the
     * last intact entry when what follows it is a torn append, else at the end: damage is kept, never cut).
     */
    public record Contents(List<DeadLetter> entries, List<Damage> damage, long validBytes) {
        public Contents {
            entries = List.copyOf(entries);
            damage = List.copyOf(damage);
        }

        /** How many damaged places the read stepped over. */
        public int damaged() {
            return damage.size();
        }
    }

    /** Bytes {@code [from, from + length)} of the file hold no intact entry. */
    public record Damage(long from, long length) {
        @Override
        public String toString() {
            return "at byte " + from + " (" + length + " bytes)";
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final Set<String> eventIds = new HashSet<>();
    /** {@code eventIds.size()}, readable without the lock. */
    private volatile int count;

    private DeadLetterFile(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Opens (creating) the file in {@code dir}, cutting off a torn tail left by a crash. */
    public static DeadLetterFile open(Path dir) throws IOException {
        WalDirectory.checkWritable(dir);
        Files.createDirectories(dir);
        Path file = dir.resolve(NAME);
        Contents c = read(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        if (ch.size() > c.validBytes()) {
            ch.truncate(c.validBytes());
            ch.force(true);
        }
        ch.position(c.validBytes());
        DeadLetterFile f = new DeadLetterFile(file, ch);
        c.entries().forEach(e -> f.eventIds.add(e.eventId()));
        f.count = f.eventIds.size();
        return f;
    }

    public Path path() {
        return file;
    }

    /** True when an event with this id was dead-lettered before (a resend of its batch skips it). */
    /** True while nothing has been dead-lettered here: read without a lock, once per record on the sending path. */
    public boolean isEmpty() {
        return count == 0;
    }

    public synchronized boolean contains(String eventId) {
        return eventIds.contains(eventId);
    }

    public synchronized int size() {
        return eventIds.size();
    }

    /** Appends and syncs; when this returns, the dead letter survives a crash. */
    public synchronized void append(DeadLetter d) throws IOException {
        byte[] body = encode(d);
        CRC32C crc = new CRC32C();
        crc.update(body);
        ByteBuffer b = ByteBuffer.allocate(HEAD + body.length);
        b.putInt(MAGIC).putInt(body.length).putInt((int) crc.getValue()).put(body).flip();
        long at = channel.position();
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
            channel.force(false);
        } catch (IOException e) {
            channel.truncate(at); // best effort: no half entry before the next one
            channel.position(at);
            throw new IOException("cannot write dead letter for event " + d.eventId() + " to " + file + ": "
                    + e.getMessage(), e);
        }
        eventIds.add(d.eventId());
        count = eventIds.size();
    }

    /** Reads every intact entry of a dead-letter file; a missing file is empty. */
    public static Contents read(Path file) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new Contents(List.of(), List.of(), 0);
        }
        List<DeadLetter> out = new ArrayList<>();
        List<Damage> damage = new ArrayList<>();
        int pos = 0;
        int intactEnd = 0;
        while (pos + HEAD <= all.length) {
            DeadLetter d = entryAt(all, pos);
            if (d == null) {
                pos++;
                continue;
            }
            if (pos > intactEnd) {
                damage.add(new Damage(intactEnd, pos - intactEnd)); // damage with an intact entry after it
            }
            out.add(d);
            pos += HEAD + ByteBuffer.wrap(all, pos + 4, 4).getInt();
            intactEnd = pos;
        }
        if (intactEnd == all.length || tornAppend(all, intactEnd)) {
            return new Contents(out, damage, intactEnd);
        }
        damage.add(new Damage(intactEnd, all.length - intactEnd));
        return new Contents(out, damage, all.length);
    }

    /**
     * Whether the bytes after the last intact entry are what a crash mid-append leaves: less than a header, zeros
     * (a file extended but not written), or the start of one entry that runs past the end of the file. Anything
     * else (garbage, a complete entry that fails its checksum) is damage, reported and kept.
     */
    private static boolean tornAppend(byte[] all, int from) {
        int tail = all.length - from;
        if (tail < HEAD) {
            return true;
        }
        boolean zeros = true;
        for (int i = from; i < all.length && zeros; i++) {
            zeros = all[i] == 0;
        }
        if (zeros) {
            return true;
        }
        ByteBuffer h = ByteBuffer.wrap(all, from, HEAD);
        if (h.getInt() != MAGIC) {
            return false;
        }
        int len = h.getInt();
        return len >= 0 && len <= MAX_BODY && len > tail - HEAD;
    }

    /** The entry starting at pos, or null when none starts there. */
    private static DeadLetter entryAt(byte[] all, int pos) {
        ByteBuffer h = ByteBuffer.wrap(all, pos, HEAD);
        if (h.getInt() != MAGIC) {
            return null;
        }
        int len = h.getInt();
        int crc = h.getInt();
        if (len < 0 || len > MAX_BODY || len > all.length - pos - HEAD) {
            return null;
        }
        CRC32C c = new CRC32C();
        c.update(all, pos + HEAD, len);
        if ((int) c.getValue() != crc) {
            return null;
        }
        try {
            return decode(ByteBuffer.wrap(all, pos + HEAD, len));
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return null; // checksummed but not ours (a bug, or a collision): never trust it
        }
    }

    private static byte[] encode(DeadLetter d) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(d.value().length + 512);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(d.atMillis());
            out.writeLong(d.walIndex());
            text(out, d.eventId());
            text(out, d.topic());
            text(out, d.reason());
            text(out, d.error().length() > MAX_TEXT ? d.error().substring(0, MAX_TEXT) + "…" : d.error());
            text(out, d.destination());
            blob(out, d.key());
            blob(out, d.value());
            out.writeInt(d.headers().size());
            for (DeadLetter.Header header : d.headers()) {
                text(out, header.key());
                blob(out, header.value());
            }
        }
        return bytes.toByteArray();
    }

    private static DeadLetter decode(ByteBuffer b) {
        long at = b.getLong();
        long index = b.getLong();
        String id = text(b);
        String topic = text(b);
        String reason = text(b);
        String error = text(b);
        String destination = text(b);
        byte[] key = blob(b);
        byte[] value = blob(b);
        int n = b.getInt();
        if (n < 0 || n > 1024) {
            throw new IllegalArgumentException("header count " + n);
        }
        List<DeadLetter.Header> headers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            headers.add(new DeadLetter.Header(text(b), blob(b)));
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException("trailing bytes");
        }
        return new DeadLetter(at, index, id, topic, reason, error, destination, key, value, headers);
    }

    /** Written whole: an event id cut short would no longer match its event after a restart. */
    private static void text(DataOutputStream out, String s) throws IOException {
        blob(out, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void blob(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b == null ? -1 : b.length);
        if (b != null) {
            out.write(b);
        }
    }

    private static String text(ByteBuffer b) {
        byte[] bytes = blob(b);
        if (bytes == null) {
            throw new IllegalArgumentException("missing text");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] blob(ByteBuffer b) {
        int n = b.getInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("length " + n);
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
