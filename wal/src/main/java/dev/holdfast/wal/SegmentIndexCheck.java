package dev.holdfast.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks Chronicle's index of one segment against the records a {@link SegmentScanner} walk found. Chronicle seeks
 * by index (the forwarder's resume, {@code toEnd}) through two levels of arrays it keeps in the segment itself:
 * a garbled array makes every seek throw ("Capacity … is negative") and so stops the WAL from opening; a wrong
 * position in it would send a seek to the wrong record. Neither shows in the records' own headers, so the walk
 * alone cannot see it.
 *
 * <p>The layout, as far as it is needed here: the file header names {@code indexCount}, {@code indexSpacing} and
 * {@code index2Index} (the position of the first-level array). Each array is a metadata document whose named field
 * ({@code index2index} or {@code index}) holds an int64 array: type 0x8D, capacity, used, then capacity values.
 * Entry {@code i} of the first level is the position of the {@code i}-th second-level array; entry {@code j} of
 * that array is the position of record number {@code (i * indexCount + j) * indexSpacing}; 0 means "not indexed
 * yet" (Chronicle then scans from an earlier entry). A writer killed mid-append may leave an entry for the record
 * it never completed: an entry past the last record walked may point only past it.
 */
final class SegmentIndexCheck {
    private static final byte[] INDEX_COUNT = "indexCount".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INDEX_SPACING = "indexSpacing".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INDEX_2_INDEX = "index2Index".getBytes(StandardCharsets.US_ASCII);

    /** Where the index is wrong, and how. */
    record Problem(long position, String reason) {
    }

    private record Array(long position, long capacity, long used, long[] values) {
    }

    private long indexCount = -1;
    private long indexSpacing = -1;
    private long index2IndexAt = -1;
    private String headerProblem;
    private Array firstLevel;
    private final List<Array> secondLevel = new ArrayList<>();
    private final Map<Long, Long> positionOfIndexed = new HashMap<>();
    private Problem arrayProblem;
    /** First-level entry number of each second-level array, in the order they were given. */
    private final List<Integer> arrayNumbers = new ArrayList<>();

    /** The file header's indexing fields; called once, before any document. */
    void header(byte[] header) {
        indexCount = ChronicleWire.field(header, INDEX_COUNT);
        indexSpacing = ChronicleWire.field(header, INDEX_SPACING);
        index2IndexAt = ChronicleWire.field(header, INDEX_2_INDEX);
        if (indexCount <= 0 || indexSpacing <= 0 || index2IndexAt < 0
                || Long.bitCount(indexCount) != 1 || Long.bitCount(indexSpacing) != 1 || indexCount > (1 << 20)) {
            headerProblem = "the file header's index fields are unreadable (indexCount " + indexCount
                    + ", indexSpacing " + indexSpacing + ", index2Index " + index2IndexAt + ")";
        }
    }

    /** An index array's document is at most this long: a capacity of 2^20 entries, name and padding. */
    static final int MAX_ARRAY_BYTES = (8 << 20) + 64;

    /** Whether a metadata document opening with {@code head} is one of the index arrays. */
    static boolean isArray(byte[] head) {
        return name(head) != null;
    }

    /** An index array's document (see {@link #isArray}), its body as read; null when it is too long to be one. */
    void array(long position, byte[] body) {
        if (arrayProblem != null) {
            return;
        }
        String name = body == null ? "index" : name(body);
        Array array = body == null ? null : array(position, body, 2 + name.length());
        boolean first = name.equals("index2index");
        if (array == null) {
            arrayProblem = new Problem(position, "Chronicle's " + name + " array is unreadable (its length,"
                    + " capacity or used are out of range)");
        } else if (first && firstLevel != null) {
            arrayProblem = new Problem(position, "a second index2index array (the first is at byte "
                    + firstLevel.position + ")");
        } else if (first) {
            firstLevel = array;
        } else {
            secondLevel.add(array);
        }
    }

    /**
     * Reads the index arrays straight from where the file header and the first level say they are, instead of
     * meeting them in the walk: a walk that starts from a {@link WalkMarks mark} passes no array written before it.
     * Call after {@link #header} and instead of {@link #array}.
     */
    void readArrays(SegmentBytes bytes) throws IOException {
        if (headerProblem != null) {
            return;
        }
        array(index2IndexAt, arrayBody(bytes, index2IndexAt));
        if (firstLevel == null) {
            return;
        }
        for (int i = 0; i < firstLevel.values.length && arrayProblem == null; i++) {
            long at = firstLevel.values[i];
            if (at != 0) {
                array(at, arrayBody(bytes, at));
                arrayNumbers.add(i);
            }
        }
    }

    /** The body of the metadata document at {@code at}, or null when none that could be an index array is there. */
    private static byte[] arrayBody(SegmentBytes bytes, long at) throws IOException {
        if (at <= 0 || at + 4 > bytes.size()) {
            return null;
        }
        int h = bytes.intAt(at);
        int len = h & SegmentScanner.LENGTH_MASK;
        if ((h & SegmentScanner.END_OF_DATA) != SegmentScanner.META_DATA || len > MAX_ARRAY_BYTES
                || at + 4 + len > bytes.size()) {
            return null;
        }
        byte[] body = bytes.read(at + 4, len);
        return isArray(body) ? body : null;
    }

    /**
     * A checksum of the index as far as it covers records {@code 0 .. throughOrdinal-1}: the header's fields, the
     * first level and every second-level entry for those records (arrays from {@link #readArrays}). Entries for
     * those records do not change once written, so an equal digest later means that part of the index is as it was
     * when it was checked against the records; -1 when the index cannot be read.
     */
    long digest(long throughOrdinal) {
        if (!readable()) {
            return -1;
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        ByteBuffer b = ByteBuffer.allocate(8);
        java.util.function.LongConsumer add = v -> crc.update(b.putLong(0, v).array(), 0, 8);
        add.accept(indexCount);
        add.accept(indexSpacing);
        add.accept(index2IndexAt);
        for (int i = 0; i < firstLevel.values.length; i++) {
            if (ordinalOf(i, 0) < throughOrdinal) {
                add.accept(firstLevel.values[i]); // later entries: arrays for records written after the digest
            }
        }
        for (int a = 0; a < secondLevel.size(); a++) {
            long[] values = secondLevel.get(a).values;
            for (int j = 0; j < values.length; j++) {
                if (ordinalOf(arrayNumbers.get(a), j) < throughOrdinal) {
                    add.accept(values[j]);
                }
            }
        }
        return crc.getValue();
    }

    /**
     * The last record at or before {@code ordinal} that Chronicle's index points at (arrays from
     * {@link #readArrays}); null when none is indexed or the index cannot be read. Chronicle itself reaches any
     * record by seeking to this one and then following headers: the stretch a walk must vouch for.
     */
    SegmentScanner.Indexed indexedAtOrBefore(long ordinal) {
        if (!readable()) {
            return null;
        }
        SegmentScanner.Indexed best = null;
        for (int a = 0; a < secondLevel.size(); a++) {
            long[] values = secondLevel.get(a).values;
            for (int j = 0; j < values.length; j++) {
                long o = ordinalOf(arrayNumbers.get(a), j);
                if (o > ordinal) {
                    return best;
                }
                if (values[j] != 0) {
                    best = new SegmentScanner.Indexed(o, values[j]);
                }
            }
        }
        return best;
    }

    /** Whether the header and every array read were sound: what {@link #digest} and lookups need. */
    private boolean readable() {
        return headerProblem == null && arrayProblem == null && firstLevel != null;
    }

    /** The record entry {@code entry} of the second-level array at first-level entry {@code arrayNumber} points at. */
    private long ordinalOf(int arrayNumber, int entry) {
        return ((long) arrayNumber * indexCount + entry) * indexSpacing;
    }

    private static String name(byte[] head) {
        if (head.length < 3 || (head[0] & 0xff) != 0xB9) {
            return null;
        }
        int nameLen = head[1] & 0xff;
        if (2 + nameLen > head.length) {
            return null;
        }
        String name = new String(head, 2, nameLen, StandardCharsets.US_ASCII);
        return name.equals("index2index") || name.equals("index") ? name : null;
    }

    /** An intact record of the walk, in order. */
    void record(long ordinal, long position) {
        if (indexSpacing > 0 && ordinal % indexSpacing == 0) {
            positionOfIndexed.put(ordinal, position);
        }
    }

    /**
     * The first place the index disagrees with the records walked, or null.
     *
     * @param records         records the walk found (ordinals 0 .. records-1, exact: the walk found no damage)
     * @param lastRecordStart position of the last record walked, or -1 when there is none
     */
    Problem verify(long records, long lastRecordStart) {
        return verify(0, records, lastRecordStart);
    }

    /**
     * As {@link #verify(long, long)} for a walk that started at record {@code fromOrdinal}: entries for records
     * before it are not checked (a mark's digest vouches for them).
     */
    Problem verify(long fromOrdinal, long records, long lastRecordStart) {
        if (headerProblem != null) {
            return new Problem(0, headerProblem);
        }
        if (arrayProblem != null) {
            return arrayProblem;
        }
        if (firstLevel == null) {
            return secondLevel.isEmpty() ? null
                    : new Problem(secondLevel.get(0).position, "an index array but no index2index array");
        }
        if (index2IndexAt != firstLevel.position) {
            return new Problem(0, "the file header puts index2index at byte " + index2IndexAt + ", it is at byte "
                    + firstLevel.position);
        }
        for (Array a : secondLevel) {
            if (a.capacity != indexCount) {
                return new Problem(a.position, "index array of capacity " + a.capacity + ", the header says "
                        + indexCount);
            }
        }
        if (firstLevel.capacity != indexCount) {
            return new Problem(firstLevel.position, "index2index of capacity " + firstLevel.capacity
                    + ", the header says " + indexCount);
        }
        int linked = 0;
        for (int i = 0; i < firstLevel.values.length; i++) {
            long at = firstLevel.values[i];
            if (at == 0) {
                continue;
            }
            if (linked >= secondLevel.size() || secondLevel.get(linked).position != at) {
                return new Problem(firstLevel.position, "index2index entry " + i + " points at byte " + at
                        + ", where no index array is expected");
            }
            Problem p = verifyEntries(i, secondLevel.get(linked), fromOrdinal, records, lastRecordStart);
            if (p != null) {
                return p;
            }
            linked++;
        }
        if (linked != secondLevel.size()) {
            return new Problem(secondLevel.get(linked).position, "an index array index2index does not point at");
        }
        return null;
    }

    private Problem verifyEntries(int arrayNumber, Array array, long fromOrdinal, long records,
                                  long lastRecordStart) {
        for (int j = 0; j < array.values.length; j++) {
            long at = array.values[j];
            if (at == 0) {
                continue;
            }
            long ordinal = ordinalOf(arrayNumber, j);
            if (ordinal < fromOrdinal) {
                continue;
            }
            Long expected = positionOfIndexed.get(ordinal);
            boolean right = ordinal < records ? expected != null && expected == at : at > lastRecordStart;
            if (!right) {
                return new Problem(array.position, "index entry for record " + ordinal + " points at byte " + at
                        + (expected == null ? ", past the records" : ", the record is at byte " + expected));
            }
        }
        return null;
    }

    /** The int64 array after a field name at {@code from}: padding, 0x8D, capacity, used, values. */
    private static Array array(long position, byte[] body, int from) {
        int p = ChronicleWire.int64Array(body, from);
        if (p < 0) {
            return null;
        }
        ByteBuffer b = ChronicleWire.littleEndian(body);
        long capacity = b.getLong(p + 1);
        long used = b.getLong(p + 9);
        int values = p + ChronicleWire.ARRAY_HEADER_BYTES;
        if (capacity <= 0 || used < 0 || used > capacity || capacity > (body.length - values) / 8) {
            return null;
        }
        long[] v = new long[(int) capacity];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.getLong(values + 8 * i);
            if (v[i] < 0) {
                return null;
            }
        }
        return new Array(position, capacity, used, v);
    }
}
