package dev.holdfast.chaos.harness;

import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.DiskGuard;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalInspector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Damages a stopped intake's WAL. {@link #tearTail} does it the way a torn write does: one more record is appended
 * (as the dying writer would have, for a batch it never got to acknowledge) and then some of its bytes are
 * overwritten in the segment file, so its checksum no longer matches. {@link #layout}, {@link #flipNotComplete} and
 * {@link #overwriteBlock} damage it the way bit rot does, anywhere in a segment, at the byte level: a segment is a
 * sequence of Chronicle documents, each a 4-byte little-endian header (bit 31 not complete, bit 30 metadata, low 30
 * bits the length) followed by that many bytes, the next header at the 4-byte-aligned end; a header of 0 ends the
 * written part.
 */
public final class WalDamage {
    /** The damaged batch's agent: no agent ever got an acknowledgement for it. */
    public static final String AGENT = "chaos-torn";
    private static final String MARKER = "holdfast-chaos-torn-record-marker";

    private static final int NOT_COMPLETE = 0x8000_0000;
    private static final int META_DATA = 0x4000_0000;
    private static final int LENGTH_MASK = 0x3FFF_FFFF;
    /** Size of the block {@link #overwriteBlock} overwrites. */
    public static final int BLOCK = 4096;

    private WalDamage() {
    }

    /**
     * One Chronicle document of a segment file: header at {@code position}, {@code length} bytes of content after
     * it, the next header at {@code end}. For a complete data document that holds a Holdfast record, {@code agent}
     * and {@code seq} are decoded from it (null / -1 otherwise).
     */
    public record Document(long position, int length, boolean metaData, boolean notComplete, long end, String agent,
                           long seq) {
        public boolean isRecord() {
            return !metaData && !notComplete && agent != null;
        }

        /** Bytes the document occupies: header, content and padding up to the next header. */
        public long span() {
            return end - position;
        }

        public boolean overlaps(long from, long to) {
            return position < to && from < end;
        }
    }

    /** Walks a segment's documents from the start of the file to the end of its written part. */
    public static List<Document> layout(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment)).order(ByteOrder.LITTLE_ENDIAN);
        List<Document> docs = new ArrayList<>();
        long pos = 0;
        while (pos + 4 <= b.limit()) {
            int header = b.getInt((int) pos);
            int length = header & LENGTH_MASK;
            if (header == 0) {
                break; // end of the written part
            }
            long end = (pos + 4 + length + 3) & ~3L;
            boolean meta = (header & META_DATA) != 0;
            boolean incomplete = (header & NOT_COMPLETE) != 0;
            String agent = null;
            long seq = -1;
            // a Holdfast record: crc 4, version 1, priority 1, reserved 2, seq 8, received 8, events 4, agent len 2, agent
            int c = (int) pos + 4;
            if (!meta && !incomplete && length >= 34 && end <= b.limit() && b.get(c + 4) == 1) {
                int agentLen = b.getShort(c + 28) & 0xffff;
                if (agentLen <= length - 34) {
                    byte[] id = new byte[agentLen];
                    b.get(c + 30, id);
                    agent = new String(id, StandardCharsets.UTF_8);
                    seq = b.getLong(c + 8);
                }
            }
            docs.add(new Document(pos, length, meta, incomplete, end, agent, seq));
            if (end > b.limit()) {
                break;
            }
            pos = end;
        }
        return docs;
    }

    /**
     * Sets the not-complete bit of a complete data document's header, leaving its length and content intact: what
     * one flipped bit does to a record in the middle of a segment. Returns the header before and after.
     */
    public static int[] flipNotComplete(Path segment, long headerPosition) throws IOException {
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, headerPosition);
            int before = h.getInt(0);
            if ((before & (NOT_COMPLETE | META_DATA)) != 0 || (before & LENGTH_MASK) == 0) {
                throw new IOException(String.format("%s at %d: header %08x is not a complete data document's",
                        segment, headerPosition, before));
            }
            int after = before | NOT_COMPLETE;
            h.putInt(0, after).rewind();
            ch.write(h, headerPosition);
            ch.force(true);
            return new int[]{before, after};
        }
    }

    /** Overwrites {@link #BLOCK} bytes at {@code offset} with bytes from {@code random}: a block the disk lost. */
    public static void overwriteBlock(Path segment, long offset, Random random) throws IOException {
        byte[] junk = new byte[BLOCK];
        random.nextBytes(junk);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (offset < 0 || offset + BLOCK > ch.size()) {
                throw new IOException(segment + " has " + ch.size() + " bytes, no 4 KiB block at " + offset);
            }
            ch.write(ByteBuffer.wrap(junk), offset);
            ch.force(true);
        }
    }

    /**
     * The WAL index the intake's last checkpoint of agent sequences covers (its start-up scan begins after it), or
     * -1 when there is none or it cannot be read; as the WAL itself reads it.
     */
    public static long checkpointCovers(Path walDir) {
        try (WalInspector wal = WalInspector.open(walDir)) {
            return wal.checkpointCovers().orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Last-modified time of the checkpoint file in millis, or -1 when there is none (yet). */
    public static long checkpointModified(Path walDir) {
        try (WalInspector wal = WalInspector.open(walDir)) {
            return wal.checkpointModifiedMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Appends the record and corrupts it; returns the segment file it is in. */
    public static Path tearTail(Path walDir, String rollCycle, long blockSize) throws Exception {
        WalConfig cfg = new WalConfig(walDir, true, 0, 1 << 20, rollCycle, blockSize,
                new DiskGuard.Limits(Long.MAX_VALUE / 4, 0, 0.98, 0.99, 1000), WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        byte[] batch = EventBatch.newBuilder().setAgentId(AGENT).setBatchSeq(1)
                .addEvents(Event.newBuilder().setTimeUnixNano(System.currentTimeMillis() * 1_000_000L)
                        .setFile(FileEvent.newBuilder().setKind(FileEvent.Kind.MODIFY).setPath("/chaos/torn"))
                        .putAttributes("marker", MARKER))
                .build().toByteArray();
        try (Wal wal = Wal.open(cfg, CommitListener.NONE)) {
            wal.append(new BatchHeader(AGENT, 1, 1, BatchPriority.NORMAL, System.currentTimeMillis() * 1_000_000L),
                    batch).get(30, TimeUnit.SECONDS);
        }
        Path segment = newestSegment(walDir);
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = find(ch, marker);
            if (at < 0) {
                throw new IOException("the appended record is not in " + segment);
            }
            ch.write(ByteBuffer.wrap("XXXXXXXX".getBytes(StandardCharsets.US_ASCII)), at);
            ch.force(true);
        }
        return segment;
    }

    private static Path newestSegment(Path walDir) throws IOException {
        try (Stream<Path> files = Files.list(walDir)) {
            List<Path> segments = files.filter(p -> p.getFileName().toString().endsWith(".cq4"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
            if (segments.isEmpty()) {
                throw new IOException("no WAL segment in " + walDir);
            }
            return segments.get(segments.size() - 1);
        }
    }

    /** Offset of the last occurrence of {@code needle} in the file, or -1. */
    private static long find(FileChannel ch, byte[] needle) throws IOException {
        long size = ch.size();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, Integer.MAX_VALUE - 16));
        ch.read(buf, 0);
        byte[] hay = buf.array();
        int n = buf.position();
        outer:
        for (int i = n - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

}
