package dev.holdfast.wal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One agent's held seqs as disjoint, non-adjacent ranges in unsigned order. A contiguous run costs one range
 * whatever its length, so an agent that starts at seq 1001 (it failed over from another node) or at a time-derived
 * seq costs as little as one that starts at 1.
 *
 * <p>Bounded: beyond {@code maxRanges} the lowest range is forgotten. A forgotten seq sent again is written again
 * (an at-least-once duplicate), never refused: this class may forget a held seq but never invents one.
 *
 * <p>Seqs are unsigned 64-bit numbers carried in a {@code long} bit for bit; 0 is never a seq. Not thread-safe.
 */
final class HeldRanges {
    /** start → end (inclusive), ordered as unsigned numbers. */
    private final TreeMap<Long, Long> byStart = new TreeMap<>(Long::compareUnsigned);
    private final int maxRanges;

    HeldRanges(int maxRanges) {
        if (maxRanges < 1) {
            throw new IllegalArgumentException("maxRanges must be >= 1");
        }
        this.maxRanges = maxRanges;
    }

    boolean contains(long seq) {
        Map.Entry<Long, Long> range = byStart.floorEntry(seq);
        return range != null && Long.compareUnsigned(seq, range.getValue()) <= 0;
    }

    /** Records {@code seq} as held. Returns false when it already was (or is 0, which is never a seq). */
    boolean add(long seq) {
        if (seq == 0 || contains(seq)) {
            return false;
        }
        Map.Entry<Long, Long> below = byStart.floorEntry(seq); // ends before seq, else contains() was true
        Map.Entry<Long, Long> above = byStart.higherEntry(seq);
        // seq - 1 cannot wrap (seq != 0); seq + 1 wraps only for 2^64-1, which has nothing above it
        boolean joinsBelow = below != null && below.getValue() == seq - 1;
        boolean joinsAbove = above != null && above.getKey() == seq + 1;
        if (joinsBelow && joinsAbove) {
            byStart.remove(above.getKey());
            byStart.put(below.getKey(), above.getValue());
        } else if (joinsBelow) {
            byStart.put(below.getKey(), seq);
        } else if (joinsAbove) {
            byStart.remove(above.getKey());
            byStart.put(seq, above.getValue());
        } else {
            byStart.put(seq, seq);
            while (byStart.size() > maxRanges) {
                byStart.pollFirstEntry();
            }
        }
        return true;
    }

    /**
     * No longer counts {@code seq} as held (its record turned out to be damaged). Returns whether it was held.
     * Splitting a range may exceed the bound, in which case the lowest range is forgotten as in {@link #add}.
     */
    boolean remove(long seq) {
        if (!contains(seq)) {
            return false;
        }
        Map.Entry<Long, Long> range = byStart.floorEntry(seq);
        long start = range.getKey();
        long end = range.getValue();
        byStart.remove(start);
        if (start != seq) {
            byStart.put(start, seq - 1);
        }
        if (end != seq) {
            byStart.put(seq + 1, end);
        }
        while (byStart.size() > maxRanges) {
            byStart.pollFirstEntry();
        }
        return true;
    }

    /**
     * The highest seq T such that every seq in (0, T] is in (0, {@code claimedThrough}] or held: how far an agent may
     * skip. 0 when seq 1 is neither claimed nor held; 2^64-1 (-1L) when everything is.
     */
    long contiguousThrough(long claimedThrough) {
        long through = claimedThrough;
        for (Map.Entry<Long, Long> r : byStart.entrySet()) {
            if (through == -1L) {
                break; // everything up to 2^64-1 is covered
            }
            if (Long.compareUnsigned(r.getKey(), through + 1) > 0) {
                break; // a gap: the first seq above `through` is neither claimed nor held
            }
            if (Long.compareUnsigned(r.getValue(), through) > 0) {
                through = r.getValue();
            }
        }
        return through;
    }

    /**
     * Held seqs above {@code through}, lowest first, at most {@code limit} of them; when there are more, the last
     * entry is the highest held seq instead of the next one in order, so an agent that starts afresh under this id
     * still learns where to continue.
     */
    List<Long> heldAbove(long through, int limit) {
        List<Long> out = new ArrayList<>();
        if (limit < 1 || through == -1L || byStart.isEmpty()) {
            return out;
        }
        long highest = byStart.lastEntry().getValue();
        Map.Entry<Long, Long> first = byStart.floorEntry(through + 1);
        Map<Long, Long> from = first == null ? byStart : byStart.tailMap(first.getKey(), true);
        outer:
        for (Map.Entry<Long, Long> r : from.entrySet()) {
            long start = Long.compareUnsigned(r.getKey(), through) > 0 ? r.getKey() : through + 1;
            long end = r.getValue();
            if (Long.compareUnsigned(start, end) > 0) {
                continue; // the range lies wholly at or below `through`
            }
            for (long seq = start; ; seq++) {
                if (out.size() == limit - 1 && seq != highest) {
                    out.add(highest);
                    break outer;
                }
                out.add(seq);
                if (seq == end) {
                    break;
                }
            }
        }
        return out;
    }

    /** The ranges, lowest first, as {start, end} pairs (for checkpoints and tests). */
    List<long[]> ranges() {
        List<long[]> out = new ArrayList<>(byStart.size());
        for (Map.Entry<Long, Long> r : byStart.entrySet()) {
            out.add(new long[]{r.getKey(), r.getValue()});
        }
        return out;
    }

    /**
     * Adds a range read from a checkpoint. Ranges must come lowest first, disjoint and non-adjacent, as
     * {@link #ranges()} gives them.
     */
    void restore(long start, long end) {
        if (start == 0 || Long.compareUnsigned(start, end) > 0) {
            throw new IllegalArgumentException("bad range " + Long.toUnsignedString(start) + ".."
                    + Long.toUnsignedString(end));
        }
        if (!byStart.isEmpty()) {
            long lastEnd = byStart.lastEntry().getValue();
            if (lastEnd == -1L || Long.compareUnsigned(start, lastEnd + 1) <= 0) {
                throw new IllegalArgumentException("range " + Long.toUnsignedString(start)
                        + " overlaps or touches the one before it");
            }
        }
        if (byStart.size() >= maxRanges) {
            throw new IllegalArgumentException("more than " + maxRanges + " ranges");
        }
        byStart.put(start, end);
    }
}
