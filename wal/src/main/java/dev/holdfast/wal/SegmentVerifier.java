package dev.holdfast.wal;

import net.openhft.chronicle.queue.RollCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Walks the WAL's segment headers in the background while the WAL runs ({@code wal-verify}), and keeps the
 * {@link WalkMarks} that let the next start skip what it found intact. Each pass does two things:
 * <ul>
 *   <li><b>Follows the writer:</b> every marked segment is walked on from its mark, and the mark moves on, as far
 *       as the last checkpoint (a start reads every record after the checkpoint through Chronicle's tailer, so it
 *       must walk their headers first). What the next start walks is about one interval of writing.</li>
 *   <li><b>Walks every segment again from its first byte,</b> Chronicle's index included, at most
 *       {@link #REWALK_RECORDS} records a pass: what the start trusted from a mark may have rotted since, and this is
 *       where such damage is found (seconds or minutes after the intake is ready instead of before, which is what
 *       bounds a restart whatever the WAL's size). A segment with no mark gets one when this walk reaches the
 *       checkpoint or the end.
 *       </li>
 * </ul>
 * A segment found damaged loses its mark, so the next start walks and repairs it; until then readers pass the damage
 * as they pass damage that appears under a running intake, and seeks into it are checked first ({@link WalReader}).
 *
 * <p>The writer appends to the newest segment while it is walked, so a walk may meet a record being written. Damage
 * is believed only when a walk of the whole segment finds it too, at the same place when nothing vouched before.
 */
final class SegmentVerifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SegmentVerifier.class);

    /**
     * Between passes. A start walks what was appended since the last mark was written: about this long of writing
     * plus a pass and the checkpoint's lag, a few thousand records at full rate. A pass that only follows the writer
     * reads one header per record appended since the last and Chronicle's index arrays, and writes one small file.
     * Short enough that the marks follow within the writer's {@link PageCacheTrim#WRITER_KEEP}: headers read from
     * the page cache, not the disk (at 2.4 M events/s, 1 s between passes left the marks 30,000 records behind).
     */
    static final long INTERVAL_MILLIS = 250;
    /**
     * Records walked again from the first byte per pass: about 0.3 s of reading their headers from the disk (where
     * they are: the WAL's pages leave the page cache behind the writer); the 220,000 records of 20 GB in 100 KB
     * batches take 110 passes, a minute. More per pass would hold the next pass's marks back.
     */
    static final long REWALK_RECORDS = 2_000;

    private final Path dir;
    private final RollCycle rollCycle;
    private final WalkMarks walkMarks;
    private final long rewalkRecords;
    /** The WAL index the last checkpoint covers through (-1: none): marks never go past it. */
    private final LongSupplier checkpointedThrough;
    /** The marks, moved on as the writer appends. Verifier thread only. */
    private final Map<String, WalkMarks.Mark> marks;
    /** Where a walk stopped: the document at {@code position} is record {@code ordinal}. */
    private record Cursor(long position, long ordinal) {
    }

    /** How far each segment has been walked again from its first byte in this run. Verifier thread only. */
    private final Map<String, Cursor> rewalked = new HashMap<>();
    private final Set<String> damaged = ConcurrentHashMap.newKeySet();
    /** Cycles whose segment the start trusted from its mark and this run has not walked whole yet, or damaged. */
    private final Set<Integer> unverified = ConcurrentHashMap.newKeySet();
    /** The marks last written. Verifier thread only. */
    private Map<String, WalkMarks.Mark> saved;
    private volatile ScheduledExecutorService thread;

    /** @param saved the marks on disk now: what recovery kept, and trusted without walking those segments whole */
    SegmentVerifier(Path dir, RollCycle rollCycle, WalkMarks walkMarks, Map<String, WalkMarks.Mark> saved,
                    LongSupplier checkpointedThrough) {
        this(dir, rollCycle, walkMarks, saved, checkpointedThrough, REWALK_RECORDS);
    }

    /**
     * @param checkpointedThrough the index the checkpoint on disk covers through (-1: none)
     * @param rewalkRecords       records walked again from the first byte per pass
     */
    SegmentVerifier(Path dir, RollCycle rollCycle, WalkMarks walkMarks, Map<String, WalkMarks.Mark> saved,
                    LongSupplier checkpointedThrough, long rewalkRecords) {
        this.checkpointedThrough = checkpointedThrough;
        this.rewalkRecords = rewalkRecords;
        this.dir = dir;
        this.rollCycle = rollCycle;
        this.walkMarks = walkMarks;
        this.saved = new TreeMap<>(saved);
        this.marks = new TreeMap<>(saved);
        for (String name : saved.keySet()) {
            int cycle = SegmentFiles.cycleOf(name, rollCycle);
            if (cycle >= 0) {
                unverified.add(cycle);
            }
        }
    }

    /**
     * Whether a seek into this cycle must check the headers Chronicle will follow first: the segment may hold
     * damage no walk of this run has seen (trusted from its mark), or holds damage one found.
     */
    boolean seekNeedsCheck(int cycle) {
        return unverified.contains(cycle);
    }

    /** Runs a pass now and then every {@code intervalMillis} after the last one ended, until closed. */
    synchronized void start(long intervalMillis) {
        if (thread != null) {
            return;
        }
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "wal-verify");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            return t;
        });
        thread.scheduleWithFixedDelay(() -> {
            try {
                pass();
            } catch (java.nio.channels.ClosedByInterruptException e) {
                // closed mid-walk
            } catch (IOException | RuntimeException e) {
                log.warn("background walk of the WAL's segments failed (retried): {}", e.toString());
            }
        }, 0, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /** Segment files this run found damaged since it started (each is repaired at the next start). */
    Set<String> damagedSegments() {
        return Set.copyOf(damaged);
    }

    /**
     * One pass: marks follow the writer, and the walk from each segment's first byte goes on by up to
     * {@code rewalkRecords} records; the marks are written when they moved. Called by the verifier thread, or by
     * a test that did not start it.
     */
    synchronized void pass() throws IOException {
        List<SegmentFiles.Entry> files = SegmentFiles.list(dir, rollCycle).stream()
                .filter(f -> f.cycle() >= 0 && !damaged.contains(f.name())).toList();
        Set<String> present = new HashSet<>();
        Set<String> confirmed = new HashSet<>(); // a mark found not to fit: walked from the first byte next pass
        long checkpointed = checkpointedThrough.getAsLong();
        // First the marks follow the writer, and are written at once: a start walks what came after them, and the
        // walk from the first byte below can take seconds when it reads from the disk (the WAL's pages do not stay
        // in the page cache), which would hold the marks back by as much.
        for (SegmentFiles.Entry f : files) {
            present.add(f.name());
            SegmentScanner scanner = new SegmentScanner(f.path(), rollCycle.toIndex(f.cycle(), 0));
            long cap = markable(f.cycle(), checkpointed);
            try {
                WalkMarks.Mark mark = marks.get(f.name());
                if (mark != null && mark.ordinal() < cap) {
                    SegmentScanner.Summary tail = scanner.walkIndexed(mark.position(), mark.ordinal(),
                            cap - mark.ordinal());
                    if (tail.damaged()) {
                        confirm(f, scanner, tail, true);
                        confirmed.add(f.name());
                        continue;
                    }
                    marks.put(f.name(), markAt(scanner, tail, mark));
                }
            } catch (NoSuchFileException e) {
                present.remove(f.name()); // retention deleted it
            }
        }
        saveIfMoved(present);
        long budget = rewalkRecords;
        for (SegmentFiles.Entry f : files) {
            WalkMarks.Mark mark = marks.get(f.name());
            if (budget <= 0 || !present.contains(f.name()) || damaged.contains(f.name()) || confirmed.contains(f.name())
                    || !(unverified.contains(f.cycle()) || mark == null)) {
                continue;
            }
            SegmentScanner scanner = new SegmentScanner(f.path(), rollCycle.toIndex(f.cycle(), 0));
            long cap = markable(f.cycle(), checkpointed);
            try {
                // again from the first byte: as far as the start trusted the mark, or to the cap for a new mark
                long target = mark != null ? mark.ordinal() : cap;
                Cursor from = rewalked.getOrDefault(f.name(), new Cursor(0, 0));
                SegmentScanner.Summary s = null;
                boolean done = from.ordinal() >= target;
                if (!done) {
                    long given = Math.min(budget, target - from.ordinal());
                    s = scanner.walkIndexed(from.position(), from.ordinal(), given);
                    budget -= s.records();
                    if (s.damaged()) {
                        confirm(f, scanner, s, false);
                        continue;
                    }
                    from = new Cursor(s.end(), s.nextOrdinal());
                    rewalked.put(f.name(), from);
                    done = s.nextOrdinal() >= target || s.records() < given; // or it met the end of what is written
                }
                if (done) {
                    unverified.remove(f.cycle());
                    if (mark != null && s != null && s.nextOrdinal() == mark.ordinal()
                            && s.end() != mark.position()) {
                        // walked from the first byte to the mark's record, and it is not where the mark says
                        log.warn("WAL segment {}: its walk mark puts record {} at byte {}, it is at byte {}; the mark"
                                + " is made again", f.name(), mark.ordinal(), mark.position(), s.end());
                        mark = null;
                        marks.remove(f.name());
                    }
                }
                // a segment without a mark gets one where this walk got to, not only once it has caught up with a
                // writer that may be as fast as the walk: from there the marks follow the writer (above)
                WalkMarks.Mark made = mark == null && s != null && s.records() > 0 ? markAt(scanner, s, null) : null;
                if (made != null) {
                    marks.put(f.name(), made);
                }
            } catch (NoSuchFileException e) {
                present.remove(f.name()); // retention deleted it
            }
        }
        saveIfMoved(present);
    }

    /** Writes the marks of the segments still there, if they changed since last written. */
    private void saveIfMoved(Set<String> present) throws IOException {
        marks.keySet().retainAll(present);
        rewalked.keySet().retainAll(present);
        if (!marks.equals(saved)) {
            walkMarks.save(marks);
            saved = new TreeMap<>(marks);
        }
    }

    /**
     * How many records of a cycle a mark may cover: those the checkpoint covers. A start reads every record after
     * the checkpoint through Chronicle's tailer (to rebuild what each agent has stored), so it must have walked them.
     */
    private long markable(int cycle, long checkpointed) {
        if (checkpointed < 0) {
            return 0;
        }
        int covered = rollCycle.toCycle(checkpointed);
        return covered > cycle ? Long.MAX_VALUE : covered == cycle ? rollCycle.toSequenceNumber(checkpointed) + 1 : 0;
    }

    /**
     * The mark where a walk ended; {@code old} (null for none) when the walk ended where old is, walked nothing, or
     * the index cannot be read.
     */
    private static WalkMarks.Mark markAt(SegmentScanner scanner, SegmentScanner.Summary s, WalkMarks.Mark old)
            throws IOException {
        if (s.end() <= 0 || s.nextOrdinal() == 0 || old != null && s.end() == old.position()) {
            return old;
        }
        long digest = scanner.indexDigest(s.nextOrdinal());
        return digest == -1 ? old : new WalkMarks.Mark(s.end(), s.nextOrdinal(), digest);
    }

    /**
     * A walk found damage: believed when a walk of the whole segment finds damage too, at the same place unless a
     * mark vouched for the part before it (then any damage there is new). The segment then loses its mark. A walk
     * from a mark that the whole walk contradicts started at a wrong place (a marks file that is not this WAL's):
     * the mark is dropped and the walk from the first byte makes a new one. (A walk from a mark reads only records a
     * checkpoint covers, so it never meets one being written.)
     */
    private void confirm(SegmentFiles.Entry f, SegmentScanner scanner, SegmentScanner.Summary first,
                         boolean fromMark) throws IOException {
        SegmentScanner.Summary again = scanner.walk(false, new SegmentScanner.Visitor() { });
        if (fromMark && !again.damaged()) {
            log.warn("WAL segment {}: its walk mark does not fit it ({} at byte {}); dropped, the segment is walked"
                    + " again from its first byte", f.name(), first.firstDamage(), first.firstDamagePosition());
            marks.remove(f.name());
            unverified.add(f.cycle());
            return;
        }
        if (again.damaged() && (fromMark || again.firstDamagePosition() == first.firstDamagePosition())) {
            damaged.add(f.name());
            unverified.add(f.cycle());
            marks.remove(f.name());
            rewalked.remove(f.name());
            log.warn("WAL segment {} is damaged at byte {} ({}); readers pass the damage, and the next start"
                    + " repairs it", f.name(), again.firstDamagePosition(), again.firstDamage());
        }
    }

    /** Stops the thread, interrupting a walk in progress (its pass writes nothing). */
    @Override
    public void close() {
        ScheduledExecutorService t = thread;
        if (t != null) {
            t.shutdownNow();
            try {
                t.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
