package dev.holdfast.shipper.spool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.AppendResult;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.DiskGuard;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalSegment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The shipper's disk spool: every batch is written here before it is sent, and leaves only when the intake has
 * acknowledged it, so an intake outage, a shed or a shipper restart loses nothing.
 *
 * <p>It is the intake's own {@link Wal} (checksummed records, torn-tail recovery, free-space guard) in a directory
 * of the shipper's, plus one cursor file: {@code acknowledged-through}, the highest seq below which nothing is
 * pending. The WAL is opened at "written" durability: a record is complete in the mapped file, which survives a
 * kill of the shipper (not a power loss; the intake's WAL is where fsync durability lives).
 *
 * <p>Bounded: pending bytes never exceed {@code maxBytes}. A new batch that does not fit makes room by dropping the
 * oldest unsent batch of the least important priority no more important than itself (BULK first, then NORMAL,
 * CRITICAL last); if nothing may be dropped for it, the new batch itself is dropped. Every drop is counted by
 * reason. Appending never waits for the disk: the drain thread only hands the bytes to the WAL's writer.
 *
 * <p>Threads: {@link #append} from the drain thread; {@link #nextToSend}, {@link #acknowledge} and
 * {@link #resumeAbove} from the session thread; {@link #stats} from any. Metadata is guarded by this object.
 */
public final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);


    /** The agent id the spool's WAL records are filed under (the spool holds one agent's batches). */
    private static final String SPOOL_AGENT = "spool";
    private static final String CURSOR_FILE = "acknowledged-through";
    private static final long RETIRE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * @param maxBytes         pending batch bytes the spool holds at most
     * @param minFreeDiskBytes never fill the file system below this; a batch that would is dropped as disk_full
     * @param rollCycle        Chronicle roll cycle: how often a new segment file starts (and old ones can go)
     */
    public record Config(Path dir, long maxBytes, long minFreeDiskBytes, String rollCycle) {
        public Config {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(rollCycle, "rollCycle");
            if (maxBytes <= 0) throw new IllegalArgumentException("spool maxBytes must be positive");
            if (minFreeDiskBytes < 0) throw new IllegalArgumentException("spool minFreeDisk must not be negative");
        }

        public static Config of(Path dir, long maxBytes, long minFreeDiskBytes) {
            return new Config(dir, maxBytes, minFreeDiskBytes, "FIVE_MINUTELY");
        }
    }

    /** Why a batch was dropped: made room for a newer one (by the dropped one's priority), disk full, corrupt. */
    public enum DropReason {
        BULK, NORMAL, CRITICAL, DISK_FULL, CORRUPT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static DropReason madeRoom(Priority p) {
            return switch (p) {
                case CRITICAL -> CRITICAL;
                case BULK -> BULK;
                default -> NORMAL;
            };
        }
    }

    /** A consistent snapshot of the spool's size and losses. */
    public record Stats(long pendingBatches, long pendingEvents, long pendingBytes, long inFlightBatches,
                        long diskBytes, long acknowledgedThrough, Map<DropReason, Long> droppedEvents) {
        public long droppedEvents(DropReason reason) {
            return droppedEvents.getOrDefault(reason, 0L);
        }

        public long droppedEventsTotal() {
            return droppedEvents.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private static final class Meta {
        final long seq;
        final Priority priority;
        final int events;
        final int bytes;
        long walIndex = -1; // known once the WAL writer has written it
        boolean handedOut;

        Meta(long seq, Priority priority, int events, int bytes) {
            this.seq = seq;
            this.priority = priority;
            this.events = events;
            this.bytes = bytes;
        }
    }

    private final Config config;
    private final Wal wal;
    private final FileChannel cursor;
    private final WalReader reader; // session thread only

    /** By seq, in unsigned order (batch_seq is a uint64). */
    private final TreeMap<Long, Meta> pending = new TreeMap<>(Long::compareUnsigned);
    /** Unsent batches per priority, oldest first; entries already sent or gone are skipped lazily. */
    private final Map<Priority, ArrayDeque<Meta>> unsent = new EnumMap<>(Priority.class);
    private final Map<DropReason, Long> dropped = new EnumMap<>(DropReason.class);
    private long pendingBytes;
    private long pendingEvents;
    private long inFlight;
    private long nextSeq;
    private long sendCursor;
    private long persistedThrough = -1;
    private long lastRetireNanos = System.nanoTime();
    private boolean closed;
    private volatile Runnable onWritten = () -> { };

    private Spool(Config config, Wal wal, FileChannel cursor) {
        this.config = config;
        this.wal = wal;
        this.cursor = cursor;
        this.reader = wal.newReader();
        for (Priority p : new Priority[]{Priority.CRITICAL, Priority.NORMAL, Priority.BULK}) {
            unsent.put(p, new ArrayDeque<>());
        }
    }

    /**
     * Opens (or creates) the spool in {@code config.dir()}: recovers the WAL, then re-queues every batch above the
     * acknowledged-through cursor for sending, oldest first.
     */
    public static Spool open(Config config) throws IOException {
        long hardCap = Math.max(2 * config.maxBytes(), config.maxBytes() + (64L << 20));
        // 2 MiB mapping blocks: the spool is written and read sequentially, and every resident page of a mapped
        // block counts in the shipper's RSS (its budget is 128 MiB)
        WalConfig walConfig = new WalConfig(config.dir(), false, 1_000_000L, 4L << 20, config.rollCycle(),
                2L << 20, new DiskGuard.Limits(hardCap, config.minFreeDiskBytes(), 0.995, 0.995, 1000),
                WalConfig.CHECKPOINT_INTERVAL_MILLIS);
        Wal wal = Wal.open(walConfig, CommitListener.NONE);
        FileChannel cursor = null;
        try {
            Path cursorFile = config.dir().resolve(CURSOR_FILE);
            boolean fresh = !Files.exists(cursorFile);
            cursor = FileChannel.open(cursorFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            Spool spool = new Spool(config, wal, cursor);
            spool.recover(fresh, readCursor(cursor));
            return spool;
        } catch (IOException | RuntimeException e) {
            if (cursor != null) cursor.close();
            wal.close();
            throw e;
        }
    }

    private static long readCursor(FileChannel cursor) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Long.BYTES);
        while (b.hasRemaining() && cursor.read(b, b.position()) > 0) {
            // read all eight bytes
        }
        return b.hasRemaining() ? 0 : b.flip().getLong();
    }

    private void recover(boolean fresh, long acknowledgedThrough) throws IOException {
        long highest = acknowledgedThrough;
        long corruptRecords = 0;
        WalReader.Entry e;
        try (WalReader scan = wal.newReader()) {
            while ((e = scan.next()) != null) {
                if (e instanceof WalReader.Valid v) {
                    BatchHeader h = v.record().header();
                    if (Long.compareUnsigned(h.batchSeq(), highest) > 0) {
                        highest = h.batchSeq();
                    }
                    if (Long.compareUnsigned(h.batchSeq(), acknowledgedThrough) > 0) {
                        Meta m = new Meta(h.batchSeq(), Priority.forNumber(h.priority().code()), h.eventCount(),
                                v.record().payload().length);
                        m.walIndex = v.index();
                        add(m);
                    }
                } else {
                    corruptRecords++;
                }
            }
        }
        if (corruptRecords > 0) {
            // the WAL's recovery already cut a torn tail; anything else unreadable is lost, and said so
            LOG.warn("spool {} has {} unreadable records (event counts unknown); skipped", config.dir(),
                    corruptRecords);
            dropped.merge(DropReason.CORRUPT, corruptRecords, Long::sum);
        }
        // A brand-new spool starts its seqs at a time-derived value, so a machine whose spool was wiped can never
        // reuse seqs its earlier self sent (the intake would answer DUPLICATE and the events would be gone).
        nextSeq = fresh && highest == 0 ? System.currentTimeMillis() * 1000 : highest + 1;
        sendCursor = pending.isEmpty() ? nextSeq - 1 : pending.firstKey() - 1;
        writeCursorIfChanged();
        if (!pending.isEmpty()) {
            LOG.info("spool {} recovered {} unacknowledged batches ({} events), sending them first", config.dir(),
                    pending.size(), pendingEvents);
        }
    }

    /** Called (on the WAL's writer thread) whenever a batch becomes sendable; the shipper wakes its session. */
    public void onWritten(Runnable listener) {
        this.onWritten = Objects.requireNonNull(listener);
    }

    /**
     * Spools one closed batch. Never blocks on the disk; when the spool is full, makes room as the class comment
     * says, counting what it drops.
     */
    public void append(Priority priority, int eventCount, byte[] encodedEvents) {
        Meta m;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("spool is closed");
            }
            if (!makeRoom(priority, encodedEvents.length)) {
                dropped.merge(DropReason.madeRoom(priority), (long) eventCount, Long::sum);
                return;
            }
            m = new Meta(nextSeq++, priority, eventCount, encodedEvents.length);
            add(m);
        }
        BatchHeader header = new BatchHeader(SPOOL_AGENT, m.seq, eventCount, BatchPriority.fromCode(priority.getNumber()),
                System.currentTimeMillis() * 1_000_000L);
        wal.append(header, encodedEvents).whenComplete((result, failure) -> written(m, result, failure));
    }

    private void add(Meta m) {
        pending.put(m.seq, m);
        unsent.get(m.priority).addLast(m);
        pendingBytes += m.bytes;
        pendingEvents += m.events;
    }

    /** Drops oldest unsent batches no more important than {@code priority} until {@code bytes} fit. */
    private boolean makeRoom(Priority priority, int bytes) {
        if (bytes > config.maxBytes()) {
            return false;
        }
        while (pendingBytes + bytes > config.maxBytes()) {
            Meta victim = null;
            for (Priority p : new Priority[]{Priority.BULK, Priority.NORMAL, Priority.CRITICAL}) {
                if (p.getNumber() < priority.getNumber()) {
                    break; // never drop something more important than the batch that wants the room
                }
                victim = oldestUnsent(p);
                if (victim != null) break;
            }
            if (victim == null) {
                return false;
            }
            remove(victim);
            dropped.merge(DropReason.madeRoom(victim.priority), (long) victim.events, Long::sum);
        }
        return true;
    }

    private Meta oldestUnsent(Priority p) {
        ArrayDeque<Meta> q = unsent.get(p);
        while (!q.isEmpty()) {
            Meta m = q.peekFirst();
            if (!m.handedOut && pending.get(m.seq) == m) {
                return m;
            }
            q.pollFirst();
        }
        return null;
    }

    private void remove(Meta m) {
        if (pending.remove(m.seq) == null) {
            return;
        }
        pendingBytes -= m.bytes;
        pendingEvents -= m.events;
        if (m.handedOut) {
            inFlight--;
        }
    }

    private void written(Meta m, AppendResult result, Throwable failure) {
        boolean sendable;
        synchronized (this) {
            if (failure == null && result.status() == AppendResult.Status.PERSISTED) {
                m.walIndex = result.index();
                sendable = true;
            } else {
                sendable = false;
                if (pending.get(m.seq) == m) {
                    remove(m);
                    dropped.merge(DropReason.DISK_FULL, (long) m.events, Long::sum);
                    long total = dropped.get(DropReason.DISK_FULL);
                    if (total == m.events) { // say it once, loudly; the counter says the rest
                        LOG.error("spool {} cannot write ({}); dropping batches, counted as disk_full", config.dir(),
                                failure != null ? failure : result.message());
                    }
                }
            }
        }
        if (sendable) {
            onWritten.run();
        }
    }

    /**
     * The oldest batch not yet handed to the session, in seq order, or null when none is written yet. The batch
     * stays in the spool until {@link #acknowledge}.
     */
    public SpooledBatch nextToSend() {
        while (true) {
            Meta m;
            synchronized (this) {
                if (closed) return null;
                Map.Entry<Long, Meta> next = pending.higherEntry(sendCursor);
                if (next == null || next.getValue().walIndex < 0) {
                    return null;
                }
                m = next.getValue();
                m.handedOut = true;
                inFlight++;
                sendCursor = m.seq;
            }
            byte[] payload = read(m);
            if (payload != null) {
                return new SpooledBatch(m.seq, m.priority, m.events, payload);
            }
        }
    }

    private byte[] read(Meta m) {
        WalReader.Entry e = reader.seek(m.walIndex) ? reader.next() : null;
        if (e instanceof WalReader.Valid v && v.record().header().batchSeq() == m.seq) {
            return v.record().payload();
        }
        String why = e instanceof WalReader.Corrupt c ? c.reason() : "record missing at index " + m.walIndex;
        LOG.warn("spool batch {} unreadable ({}); {} events dropped, counted as corrupt", m.seq, why, m.events);
        synchronized (this) {
            remove(m);
            dropped.merge(DropReason.CORRUPT, (long) m.events, Long::sum);
        }
        return null;
    }

    /** The intake holds {@code seq} durably (or will never take it): forget it, and retire spent segments. */
    public void acknowledge(long seq) {
        synchronized (this) {
            Meta m = pending.get(seq);
            if (m != null) {
                remove(m);
            }
            writeCursorIfChanged();
        }
        long now = System.nanoTime();
        if (now - lastRetireNanos >= RETIRE_INTERVAL_NANOS) {
            lastRetireNanos = now;
            retireSegments();
        }
    }

    /**
     * The intake already holds seqs up to {@code highestPersisted} from an earlier incarnation of this agent: new
     * seqs go above it. Batches already spooled keep their seqs; any the intake had are answered DUPLICATE.
     */
    public synchronized void resumeAbove(long highestPersisted) {
        if (Long.compareUnsigned(highestPersisted, nextSeq) >= 0) {
            if (highestPersisted == -1L) {
                LOG.error("intake already holds seq 2^64-1 for this agent id, the highest there is; no seq is left "
                        + "above it (is another shipper using the same agent id?)");
                return;
            }
            LOG.warn("intake already holds seqs up to {} for this agent id, above this spool's {}; new batches "
                    + "continue above it (is another shipper using the same agent id?)",
                    Long.toUnsignedString(highestPersisted), Long.toUnsignedString(nextSeq - 1));
            nextSeq = highestPersisted + 1;
            writeCursorIfChanged();
        }
    }

    /** Highest seq at or below which nothing is pending: what the agent tells an intake it may skip. */
    public synchronized long acknowledgedThrough() {
        return pending.isEmpty() ? nextSeq - 1 : pending.firstKey() - 1;
    }

    private void writeCursorIfChanged() {
        long through = acknowledgedThrough();
        if (through == persistedThrough) {
            return;
        }
        try {
            // page cache survives a kill of this process; losing it to a power cut only means resending
            cursor.write(ByteBuffer.allocate(Long.BYTES).putLong(0, through), 0);
            persistedThrough = through;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write spool cursor in " + config.dir(), e);
        }
    }

    /** Deletes segment files holding only acknowledged or dropped batches (never the newest; never a mapped one). */
    void retireSegments() {
        long lowestNeeded;
        synchronized (this) {
            if (closed) return;
            Meta first = pending.isEmpty() ? null : pending.firstEntry().getValue();
            lowestNeeded = first == null || first.walIndex < 0 ? Long.MAX_VALUE : first.walIndex;
        }
        try {
            for (WalSegment s : wal.segments()) {
                if (s.lastIndex() >= lowestNeeded) {
                    break;
                }
                wal.deleteSegment(s);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("spool retention failed, will retry: {}", e.toString());
        }
    }

    public synchronized Stats stats() {
        return new Stats(pending.size(), pendingEvents, pendingBytes, inFlight, wal.guard().walBytes(),
                acknowledgedThrough(), new EnumMap<>(dropped));
    }

    public Path dir() {
        return config.dir();
    }

    /** Closes the WAL (it writes what it was handed first) and the cursor. Unsent batches stay for the next run. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        reader.close();
        try {
            wal.close();
        } catch (IOException e) {
            LOG.warn("closing spool: {}", e.toString());
        }
        synchronized (this) {
            writeCursorIfChanged();
        }
        try {
            cursor.close();
        } catch (IOException e) {
            LOG.warn("closing spool cursor: {}", e.toString());
        }
    }
}
