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

/**
 * Walks the WAL's segment headers in the background while the WAL runs ({@code wal-verify}), and keeps the
 * {@link WalkMarks} that let the next start skip what it found intact. Each pass does two things:
 * <ul>
 *   <li><b>Follows the writer:</b> every marked segment is walked on from its mark to the end, and the mark moves
 *       there. What the next start walks is what was appended since: about one interval of writing.</li>
 *   <li><b>Walks every segment again from its first byte,</b> Chronicle's index included, at most
 *       {@link #REWALK_RECORDS} records a pass: what the start trusted from a mark may have rotted since, and this is
 *       where such damage is found (seconds or minutes after the intake is ready instead of before, which is what
 *       bounds a restart whatever the WAL's size). A segment with no mark gets one when this walk reaches its end.
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
     * Between passes. A start walks what was appended since the last mark was written: at most about this long of
     * writing plus one pass, about 1 GB and 10,000 records at full rate.
     */
    static final long INTERVAL_MILLIS = 5_000;
    /**
     * Records walked again from the start per pass: about 0.2 s of reading from the page cache, a few seconds from
     * the disk; 20 GB of 100 KB batches takes a minute of passes.
     */
    static final long REWALK_RECORDS = 50_000;

    private final Path dir;
    private final RollCycle rollCycle;
    private final WalkMarks walkMarks;
    private final long rewalkRecords;
    /** The marks, moved on as the writer appends. Verifier thread only. */
    private final Map<String, WalkMarks.Mark> marks;
    /** How far each segment has been walked again from its first byte in this run. Verifier thread only. */
    private final Map<String, WalkMarks.Mark> rewalked = new HashMap<>();
    private final Set<String> damaged = ConcurrentHashMap.newKeySet();
    /** Cycles whose segment the start trusted from its mark and this run has not walked whole yet, or damaged. */
    private final Set<Integer> unverified = ConcurrentHashMap.newKeySet();
    /** The marks last written. Verifier thread only. */
    private Map<String, WalkMarks.Mark> saved;
    private volatile ScheduledExecutorService thread;

    /** @param saved the marks on disk now: what recovery kept, and trusted without walking those segments whole */
    SegmentVerifier(Path dir, RollCycle rollCycle, WalkMarks walkMarks, Map<String, WalkMarks.Mark> saved) {
        this(dir, rollCycle, walkMarks, saved, REWALK_RECORDS);
    }

    /** @param rewalkRecords records walked again from the start per pass */
    SegmentVerifier(Path dir, RollCycle rollCycle, WalkMarks walkMarks, Map<String, WalkMarks.Mark> saved,
                    long rewalkRecords) {
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
        long budget = rewalkRecords;
        for (SegmentFiles.Entry f : files) {
            present.add(f.name());
            SegmentScanner scanner = new SegmentScanner(f.path(), rollCycle.toIndex(f.cycle(), 0));
            try {
                WalkMarks.Mark mark = marks.get(f.name());
                if (mark != null) {
                    SegmentScanner.Summary tail = scanner.walkFrom(mark);
                    if (tail.damaged()) {
                        confirm(f, scanner, tail, true);
                        continue;
                    }
                    marks.put(f.name(), markAt(scanner, tail, mark));
                }
                if (budget > 0 && unverifiedOrUnmarked(f)) {
                    WalkMarks.Mark from = rewalked.get(f.name());
                    long given = budget;
                    SegmentScanner.Summary s = from == null ? scanner.walkIndexed(0, 0, given)
                            : scanner.walkIndexed(from.position(), from.ordinal(), given);
                    budget -= s.records();
                    if (s.damaged()) {
                        confirm(f, scanner, s, false);
                        continue;
                    }
                    WalkMarks.Mark reached = new WalkMarks.Mark(s.end(), s.nextOrdinal(), -1);
                    rewalked.put(f.name(), reached);
                    if (s.records() < given) {
                        // ended at the end of what is written, not at the budget: the whole segment is walked
                        unverified.remove(f.cycle());
                        if (!marks.containsKey(f.name())) {
                            marks.put(f.name(), markAt(scanner, s, reached));
                        }
                    }
                }
            } catch (NoSuchFileException e) {
                present.remove(f.name()); // retention deleted it
            }
        }
        marks.keySet().retainAll(present);
        rewalked.keySet().retainAll(present);
        if (!marks.equals(saved)) {
            walkMarks.save(marks);
            saved = new TreeMap<>(marks);
        }
    }

    private boolean unverifiedOrUnmarked(SegmentFiles.Entry f) {
        return unverified.contains(f.cycle()) || !marks.containsKey(f.name());
    }

    /** The mark where a walk ended; the old one when the walk ended where it began or the index cannot be read. */
    private static WalkMarks.Mark markAt(SegmentScanner scanner, SegmentScanner.Summary s, WalkMarks.Mark old)
            throws IOException {
        if (s.end() <= 0 || s.end() == old.position() && old.indexDigest() != -1) {
            return old;
        }
        long digest = scanner.indexDigest(s.nextOrdinal());
        return digest == -1 ? old : new WalkMarks.Mark(s.end(), s.nextOrdinal(), digest);
    }

    /**
     * A walk found damage: believed when a walk of the whole segment finds damage too, at the same place unless a
     * mark vouched for the part before it (then any damage there is new). The segment then loses its mark.
     */
    private void confirm(SegmentFiles.Entry f, SegmentScanner scanner, SegmentScanner.Summary first,
                         boolean fromMark) throws IOException {
        SegmentScanner.Summary again = scanner.walk(false, new SegmentScanner.Visitor() { });
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
