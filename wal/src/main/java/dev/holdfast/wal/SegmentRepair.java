package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Rewrites one damaged segment so that Chronicle can read and append to it again: every intact record is kept, in
 * order and in the same cycle (so later segments keep their indices); only the damaged bytes are copied to
 * quarantine, each range to its own file named after the segment and the byte offsets.
 *
 * <p>Records before the first damage keep their index. Records after it may move down (a damaged range held an
 * unknown number of records), which is why {@link Result#renumberedFrom()} is reported: the forwarder forgets what
 * it had confirmed from there to the end of the cycle and sends it again (a duplicate in Kafka, never a loss).
 */
final class SegmentRepair {
    /** A damaged range bigger than this (mostly zeros of a sparse file) is quarantined only up to it. */
    private static final long MAX_QUARANTINE_BYTES = 16L << 20;
    private static final String SALVAGE = "repair.salvage";
    private static final String SIDE_QUEUE = "repair.tmp";

    /**
     * @param renumberedFrom first WAL index whose record may have changed (the first damaged byte range), or the
     *                       next cycle's first index when nothing moved
     * @param renumberedThrough the cycle's last possible index: what was confirmed up to here is forgotten
     */
    record Result(String segment, long recordsKept, List<WalReader.Corrupt> damage, long renumberedFrom,
                  long renumberedThrough) {
    }

    private final WalConfig config;
    private final Path quarantine;

    SegmentRepair(WalConfig config, Path quarantine) {
        this.config = config;
        this.quarantine = quarantine;
    }

    Result repair(Path segment, int cycle) throws IOException {
        RollCycle rc = ChronicleQueues.rollCycle(config.rollCycle());
        long firstIndex = rc.toIndex(cycle, 0);
        String name = segment.getFileName().toString();
        Path salvage = config.dir().resolve(SALVAGE);
        List<WalReader.Corrupt> damage = new ArrayList<>();
        Files.createDirectories(quarantine);
        long kept;
        long[] firstLost = {Long.MAX_VALUE};
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(salvage)));
             FileChannel source = FileChannel.open(segment, StandardOpenOption.READ)) {
            long[] count = {0};
            new SegmentScanner(segment, firstIndex).walk(true, new SegmentScanner.Visitor() {
                @Override
                public void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
                    if (headerDamaged) {
                        damage.add(new WalReader.Corrupt(record.index(), name, position,
                                "header marked incomplete, record intact (kept)"));
                    }
                    try {
                        out.writeInt(raw.length);
                        out.write(raw);
                        count[0]++;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                @Override
                public void indexDamaged(long position, String reason) {
                    // derived data: the rewrite below builds a fresh index from the records, nothing to keep
                    damage.add(new WalReader.Corrupt(firstIndex, name, position, reason + " (index rebuilt)"));
                }

                @Override
                public void damaged(long ordinal, long from, long to, String reason, byte[] raw) {
                    damage.add(new WalReader.Corrupt(firstIndex + ordinal, name, from, reason));
                    try {
                        copyRange(source, from, to, quarantine.resolve(name + "." + from + "-" + to + ".damaged"));
                        if (raw != null) {
                            // one record failing its checksum between intact neighbours: kept as it is, so every
                            // later record keeps its index; readers go on reporting it
                            out.writeInt(raw.length);
                            out.write(raw);
                        } else {
                            firstLost[0] = Math.min(firstLost[0], ordinal);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            });
            kept = count[0];
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        // records keep their index up to the first place that lost bytes (a repaired header loses none)
        long renumberedFrom = firstLost[0] == Long.MAX_VALUE ? rc.toIndex(cycle + 1, 0) : firstIndex + firstLost[0];
        if (kept > 0) {
            rewrite(cycle, name, salvage);
        } else {
            Files.delete(segment); // nothing intact in it; its bytes are in quarantine
        }
        Files.delete(salvage);
        return new Result(name, kept, damage, renumberedFrom, rc.toIndex(cycle + 1, 0) - 1);
    }

    private static void copyRange(FileChannel source, long from, long to, Path target) throws IOException {
        long length = Math.max(0, Math.min(to - from, MAX_QUARANTINE_BYTES));
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
            long at = from;
            while (at < from + length) {
                buf.clear().limit((int) Math.min(buf.capacity(), from + length - at));
                int n = source.read(buf, at);
                if (n <= 0) {
                    break;
                }
                buf.flip();
                out.write(buf);
                at += n;
            }
            out.force(true);
        }
    }

    /**
     * Appends the salvaged records to a fresh queue in a side directory whose clock stands inside the damaged cycle,
     * so Chronicle writes a file for that very cycle; then it replaces the damaged file in one rename.
     */
    private void rewrite(int cycle, String name, Path salvage) throws IOException {
        Path side = config.dir().resolve(SIDE_QUEUE);
        deleteTree(side);
        RollCycle rc = ChronicleQueues.rollCycle(config.rollCycle());
        long timeInCycle = (long) cycle * rc.lengthInMillis();
        try (SingleChronicleQueue fresh = SingleChronicleQueueBuilder.binary(side)
                .rollCycle(rc)
                .blockSize(config.blockSize())
                .timeProvider(() -> timeInCycle)
                .build();
             ExcerptAppender appender = fresh.createAppender();
             DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(salvage)))) {
            while (true) {
                int len;
                try {
                    len = in.readInt();
                } catch (EOFException eof) {
                    break;
                }
                byte[] raw = in.readNBytes(len);
                try (DocumentContext dc = appender.writingDocument()) {
                    dc.wire().bytes().write(raw);
                }
            }
        }
        Path rebuilt = side.resolve(name);
        if (!Files.exists(rebuilt)) {
            throw new IOException("repair of " + name + " produced no file of that name in " + side);
        }
        // The rebuilt file holds acknowledged batches and is about to replace the only other copy of them: all of it
        // reaches the disk first. Not the appender's sync: that covers only the last chunk it wrote in, and only
        // under a sync mode this side queue does not have.
        try (FileChannel written = FileChannel.open(rebuilt, StandardOpenOption.WRITE)) {
            written.force(true);
        }
        Files.move(rebuilt, config.dir().resolve(name), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        deleteTree(side);
    }

    /**
     * Removes what a repair interrupted by a crash left. The damaged segment is only ever replaced by one atomic
     * rename at the end, so it is still there, whole, to be repaired again.
     */
    static void removeLeftovers(Path walDir) throws IOException {
        Files.deleteIfExists(walDir.resolve(SALVAGE));
        deleteTree(walDir.resolve(SIDE_QUEUE));
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
