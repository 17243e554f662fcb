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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Damages the tail of a stopped intake's WAL the way a torn write does: one more record is appended (as the dying
 * writer would have, for a batch it never got to acknowledge) and then some of its bytes are overwritten in the
 * segment file, so its checksum no longer matches.
 */
public final class WalDamage {
    /** The damaged batch's agent: no agent ever got an acknowledgement for it. */
    public static final String AGENT = "chaos-torn";
    private static final String MARKER = "holdfast-chaos-torn-record-marker";

    private WalDamage() {
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
