package dev.holdfast.forwarder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The WAL records Kafka has confirmed, as inclusive index intervals. Confirmations arrive out of order (two lanes,
 * many records in flight), so this is a set of ranges rather than a single cursor; adjacent indices merge, and a
 * roll to a new segment starts a new range, so the set stays small.
 */
public final class ConfirmedRanges {
    private final TreeMap<Long, Long> ranges = new TreeMap<>(); // start -> end, inclusive

    public synchronized void add(long index) {
        Map.Entry<Long, Long> below = ranges.floorEntry(index);
        if (below != null && below.getValue() >= index) {
            return;
        }
        long start = index;
        long end = index;
        if (below != null && below.getValue() == index - 1) {
            start = below.getKey();
        }
        Long nextStart = ranges.higherKey(index);
        if (nextStart != null && nextStart == index + 1) {
            end = ranges.remove(nextStart);
        }
        ranges.put(start, end);
    }

    public synchronized boolean contains(long index) {
        Map.Entry<Long, Long> e = ranges.floorEntry(index);
        return e != null && e.getValue() >= index;
    }

    /** End of the range containing index, or -1. */
    public synchronized long rangeEnd(long index) {
        Map.Entry<Long, Long> e = ranges.floorEntry(index);
        return e != null && e.getValue() >= index ? e.getValue() : -1;
    }

    /** True when every index from first to last (inclusive, same segment) is confirmed. */
    public synchronized boolean containsAll(long first, long last) {
        Map.Entry<Long, Long> e = ranges.floorEntry(first);
        return e != null && e.getValue() >= last;
    }

    /** Forget every index from first to last, inclusive (the WAL renumbered records there after a repair). */
    public synchronized void removeRange(long first, long last) {
        if (first > last) {
            return;
        }
        Map.Entry<Long, Long> below = ranges.lowerEntry(first);
        if (below != null && below.getValue() >= first) {
            ranges.put(below.getKey(), first - 1);
            if (below.getValue() > last) {
                ranges.put(last + 1, below.getValue());
            }
        }
        Map.Entry<Long, Long> inside;
        while ((inside = ranges.ceilingEntry(first)) != null && inside.getKey() <= last) {
            ranges.remove(inside.getKey());
            if (inside.getValue() > last) {
                ranges.put(last + 1, inside.getValue());
            }
        }
    }

    /** Forget ranges entirely below index (their segments were deleted). */
    public synchronized void removeBelow(long index) {
        ranges.headMap(index, false).entrySet().removeIf(e -> e.getValue() < index);
    }

    public synchronized List<long[]> snapshot() {
        List<long[]> out = new ArrayList<>(ranges.size());
        ranges.forEach((s, e) -> out.add(new long[]{s, e}));
        return out;
    }

    /** Restores a range saved by {@link #snapshot()}. */
    public synchronized void addRange(long start, long end) {
        ranges.merge(start, end, Math::max);
    }

    public synchronized int size() {
        return ranges.size();
    }
}
