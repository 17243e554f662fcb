package dev.holdfast.wal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Walks one segment file (a Chronicle Queue cycle) document by document, by byte position, trusting no header
 * further than it can check. Chronicle's own tailer stops for good at a header it cannot follow (a flipped "not
 * complete" bit, a garbled length, a zeroed range) and so hides every record behind it; this walk reports such a
 * place and resynchronises at the next intact record, found by scanning for a header whose record passes its
 * structure checks and CRC32C.
 *
 * <p>Chronicle's layout, as far as it is needed here: every document starts with a 4-byte little-endian header
 * ({@code bit 31} not complete, {@code bit 30} metadata, low 30 bits the length), its body follows, and the next
 * header sits at the 4-byte aligned end. Metadata documents (the file header, index arrays) are skipped; a zero
 * header is the end of what was written; {@link #END_OF_DATA} marks a segment closed by a roll. The file header's
 * {@code writePosition} is where the writer put its last complete record, which tells a torn, never-acknowledged
 * tail (beyond it) from damage (before it).
 *
 * <p>Ordinals (a record's sequence number in its cycle, as in its WAL index) are counted: exact up to the first
 * damage; after a damaged byte range of unknown content they are the walk's own count, which the repair at the
 * intake's next start makes true again (see {@link SegmentRepair}).
 */
final class SegmentScanner {
    static final int NOT_COMPLETE = 0x80000000;
    static final int META_DATA = 0x40000000;
    static final int LENGTH_MASK = 0x3FFFFFFF;
    static final int END_OF_DATA = NOT_COMPLETE | META_DATA;
    private static final byte[] WRITE_POSITION = "writePosition".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STORE_MARK = "SCQStore".getBytes(StandardCharsets.US_ASCII);

    /** What the walk sees, in file order. */
    interface Visitor {
        /**
         * An intact record. {@code headerDamaged}: its Chronicle header was wrong (e.g. marked incomplete) but the
         * record itself passed every check; Chronicle cannot read past it until the segment is repaired.
         */
        default void record(long ordinal, long position, byte[] raw, WalRecord record, boolean headerDamaged) {
        }

        /**
         * Bytes that hold no readable record. {@code oneRecord}: exactly one record whose bytes fail their checks
         * (its neighbours are intact; {@code raw} holds them); otherwise a byte range of unknown content the walk
         * skipped ({@code raw} is null).
         */
        default void damaged(long ordinal, long from, long to, String reason, byte[] raw) {
        }

        /**
         * Chronicle's index of this segment disagrees with its records (see {@link SegmentIndexCheck}); told once,
         * after the records, and only by a whole walk that found no other damage. Records stay readable one by
         * one; a seek by index is what the repair makes safe again.
         */
        default void indexDamaged(long position, String reason) {
        }

        /** Asked before each document: true ends the walk there (its summary's end and nextOrdinal resume it). */
        default boolean stop() {
            return false;
        }
    }

    /**
     * @param end             where a later walk resumes: after the last document read, or where the last damage
     *                        began when nothing intact followed it (yet)
     * @param nextOrdinal     the ordinal a walk resumed at {@code end} starts with
     * @param endOfCycle      the segment ends with Chronicle's end-of-cycle marker (the writer rolled past it)
     * @param writePosition   the writer's last complete record per the file header, or -1 if unreadable
     * @param tornTail        a record the writer never completed lies at the end (never acknowledged; not damage)
     * @param indexDamaged    Chronicle's index arrays are garbled or point at the wrong records (whole walks only)
     */
    record Summary(long records, long damagedRecords, long damagedHeaders, long skippedRanges, long skippedBytes,
                   long end, long writePosition, boolean tornTail, String firstDamage, long firstDamagePosition,
                   long firstDamageOrdinal, long nextOrdinal, boolean endOfCycle, boolean indexDamaged) {
        boolean damaged() {
            return damagedRecords + damagedHeaders + skippedRanges > 0 || indexDamaged;
        }

        /**
         * Damage Chronicle's reader would stop at (a header it cannot follow, or bytes missing before the writer's
         * last record). A record whose own bytes fail their checksum behind an intact header is not: every reader
         * passes it, reporting it.
         */
        boolean needsRepair() {
            return damagedHeaders + skippedRanges > 0 || indexDamaged;
        }
    }

    private final Path file;
    private final String segment;
    private final long firstIndex;

    /** @param firstIndex WAL index of ordinal 0 in this cycle */
    SegmentScanner(Path file, long firstIndex) {
        this.file = file;
        this.segment = file.getFileName().toString();
        this.firstIndex = firstIndex;
    }

    /**
     * Walks the whole segment. {@code decode}: read and check every record (CRC32C) and hand it to the visitor;
     * otherwise only headers are followed (cheap: one read per record), which finds every place Chronicle's tailer
     * would stop at, though not a damaged payload behind an intact header.
     */
    Summary walk(boolean decode, Visitor visitor) throws IOException {
        return walk(0, 0, decode ? 0 : Long.MAX_VALUE, visitor);
    }

    /**
     * Walks from the document at {@code startPosition}, whose ordinal is {@code startOrdinal} (0, 0: the whole
     * segment), decoding records from {@code decodeFrom} on and following only headers before it.
     */
    Summary walk(long startPosition, long startOrdinal, long decodeFrom, Visitor visitor) throws IOException {
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            return new Walk(bytes, decodeFrom, visitor, startPosition, startOrdinal, false).run();
        }
    }

    /**
     * Follows headers from a mark to the end, as a whole walk would from there: Chronicle's index entries for the
     * records it passes are checked too, read straight from the arrays (those before the mark are what the mark's
     * digest vouches for, see {@link #indexDigest}). A walk that finds damage says nothing about the rest: the
     * caller walks the whole segment before deciding anything.
     */
    Summary walkFrom(WalkMarks.Mark mark) throws IOException {
        return walkIndexed(mark.position(), mark.ordinal(), Long.MAX_VALUE);
    }

    /**
     * As {@link #walkFrom}, from the document at {@code position} (record {@code ordinal}, or the file's first byte),
     * ending after {@code maxRecords} records (resumable at the summary's end and nextOrdinal). Chronicle's index
     * is checked for the records walked, and that no entry past them points at or before the last of them.
     */
    Summary walkIndexed(long position, long ordinal, long maxRecords) throws IOException {
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            if (position > bytes.size()) {
                return damagedAt(position, ordinal, "the file ends before byte " + position);
            }
            Walk walk = new Walk(bytes, Long.MAX_VALUE, new Visitor() { }, position, ordinal, true);
            walk.stopPast = maxRecords == Long.MAX_VALUE ? Long.MAX_VALUE : ordinal + maxRecords - 1;
            return walk.run();
        }
    }

    private static Summary damagedAt(long position, long ordinal, String why) {
        return new Summary(0, 0, 0, 1, 0, position, -1, false, why, position, ordinal, ordinal, false, false);
    }

    /** An indexed record: Chronicle's index says record {@code ordinal} starts at {@code position}. */
    record Indexed(long ordinal, long position) {
    }

    /**
     * Chronicle's index of this segment, read straight from its arrays ({@link SegmentIndexCheck#readArrays}); null
     * when not even the file header is readable.
     */
    SegmentIndexCheck readIndex() throws IOException {
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            byte[] header = storeHeader(bytes);
            if (header == null) {
                return null;
            }
            SegmentIndexCheck index = new SegmentIndexCheck();
            index.header(header);
            index.readArrays(bytes);
            return index;
        }
    }

    /**
     * The last indexed record at or before {@code ordinal}: where Chronicle starts following headers to reach a
     * record (a seek, or finding the end); null when there is none or the index cannot be read.
     */
    Indexed indexedAtOrBefore(long ordinal) throws IOException {
        SegmentIndexCheck index = readIndex();
        return index == null ? null : index.indexedAtOrBefore(ordinal);
    }

    /**
     * Whether the headers from an indexed record through record {@code ordinal} are intact: the stretch Chronicle
     * follows to seek there. A stretch that ends intact before the record (one not written yet) is intact.
     */
    boolean intactThrough(Indexed from, long ordinal) throws IOException {
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            if (from.position() >= bytes.size()) {
                return false;
            }
            Walk walk = new Walk(bytes, Long.MAX_VALUE, new Visitor() { }, from.position(), from.ordinal(), false);
            walk.stopPast = ordinal;
            return !walk.run().damaged();
        }
    }

    /**
     * The digest of Chronicle's index for records {@code 0 .. throughOrdinal-1} (see
     * {@link SegmentIndexCheck#digest}); -1 when it cannot be read.
     */
    long indexDigest(long throughOrdinal) throws IOException {
        SegmentIndexCheck index = readIndex();
        return index == null ? -1 : index.digest(throughOrdinal);
    }

    /** True when the file starts like a Chronicle segment (its header document names SCQStore). */
    static boolean hasStoreHeader(Path file) throws IOException {
        try (SegmentBytes bytes = new SegmentBytes(file)) {
            return storeHeader(bytes) != null;
        }
    }

    private static byte[] storeHeader(SegmentBytes bytes) throws IOException {
        if (bytes.size() < 8) {
            return null;
        }
        int h = bytes.intAt(0);
        int len = h & LENGTH_MASK;
        if ((h & END_OF_DATA) != META_DATA || len < STORE_MARK.length || len > 4096 || 4 + len > bytes.size()) {
            return null;
        }
        byte[] body = bytes.read(4, len);
        return ChronicleWire.indexOf(body, STORE_MARK, 0) >= 0 ? body : null;
    }

    /** The writer's position from the file header: the first value of the int64 array named "writePosition". */
    static long writePosition(byte[] header) {
        int at = ChronicleWire.indexOf(header, WRITE_POSITION, 0);
        int p = at < 0 ? -1 : ChronicleWire.int64Array(header, at + WRITE_POSITION.length);
        if (p < 0 || p + ChronicleWire.ARRAY_HEADER_BYTES + 8 > header.length) {
            return -1;
        }
        long value = ChronicleWire.littleEndian(header).getLong(p + ChronicleWire.ARRAY_HEADER_BYTES);
        return value > 0 && value < (1L << 42) ? value : -1;
    }

    /** How much of a metadata document {@link #metaHeadPlausible} looks at. */
    static final int META_HEAD_BYTES = 42;

    /**
     * Chronicle's metadata documents (file header, index arrays) open with a named field: 0xB9, length, name.
     * {@code head}: the first bytes of the document's body, up to {@link #META_HEAD_BYTES}.
     */
    static boolean metaHeadPlausible(byte[] head) {
        if (head.length < 3) {
            return false;
        }
        int nameLen = head[1] & 0xff;
        if ((head[0] & 0xff) != 0xB9 || nameLen == 0 || nameLen > 40 || 2 + nameLen > head.length) {
            return false;
        }
        for (int i = 2; i < 2 + nameLen; i++) {
            if (!Character.isLetterOrDigit((char) (head[i] & 0xff)) || head[i] < 0) {
                return false;
            }
        }
        return true;
    }

    static long align(long position) {
        return (position + 3) & ~3L;
    }

    /** One walk's state. */
    private final class Walk {
        private final SegmentBytes bytes;
        private final long decodeFrom;
        private final Visitor visitor;
        private final long size;
        private final long startPosition;
        private final long startOrdinal;
        /** The index arrays were read whole before the walk ({@link #walkFrom}); those met in the walk are skipped. */
        private final boolean arraysRead;
        /** The walk ends once it has passed the record with this ordinal. */
        private long stopPast = Long.MAX_VALUE;
        private boolean decode;
        private long writePosition = -1;
        private long ordinal;
        private long records, damagedRecords, damagedHeaders, skippedRanges, skippedBytes;
        private boolean tornTail;
        private String firstDamage;
        private long firstDamagePosition = -1, firstDamageOrdinal = -1;
        private boolean landedOnWritePosition;
        private long unresolvedFrom = -1, unresolvedOrdinal;
        private SegmentIndexCheck index; // whole walks only: an index array is checked against every record
        private long lastRecordStart = -1;

        Walk(SegmentBytes bytes, long decodeFrom, Visitor visitor, long startPosition, long startOrdinal,
             boolean readArrays) {
            this.bytes = bytes;
            this.startOrdinal = startOrdinal;
            this.arraysRead = readArrays;
            if (readArrays) {
                lastRecordStart = startPosition - 1; // an entry for a record not walked yet points past the mark
            }
            this.decodeFrom = decodeFrom;
            this.visitor = visitor;
            this.size = bytes.size();
            this.startPosition = startPosition;
            this.ordinal = startOrdinal;
        }

        Summary run() throws IOException {
            long pos = startPosition;
            byte[] header = storeHeader(bytes);
            if (header == null) {
                // not even the file header is readable: look for records from the very start
                pos = skip(0, size == 0 ? "segment is empty (0 bytes)" : "segment header unreadable");
            } else {
                writePosition = writePosition(header);
                if (startPosition == 0 || arraysRead) {
                    index = new SegmentIndexCheck();
                    index.header(header);
                }
                if (arraysRead) {
                    index.readArrays(bytes);
                }
            }
            boolean stopped = false;
            boolean endOfCycle = false;
            while (pos >= 0 && pos + 4 <= size) {
                if (visitor.stop() || ordinal > stopPast) {
                    stopped = true;
                    break;
                }
                decode = pos >= decodeFrom;
                int h = bytes.intAt(pos);
                int len = h & LENGTH_MASK;
                long next = align(pos + 4 + len);
                if (h == END_OF_DATA) {
                    endOfCycle = true;
                    break;
                }
                if (h == 0) {
                    if (writePosition < 0 || pos > writePosition) {
                        if (writePosition >= 0 || !decode) {
                            break; // the end of what was written
                        }
                        // no header to say where the end is: a zeroed range is damage only if records follow it
                        long found = findRecord(pos + 4);
                        if (found < 0) {
                            break;
                        }
                        damage(pos, found, "zeroed bytes", null);
                        pos = found;
                        continue;
                    }
                    pos = skip(pos, "zeroed bytes before the writer's last record (truncated or zeroed)");
                    continue;
                }
                if ((h & NOT_COMPLETE) != 0 && len == 0) {
                    // a write in progress, or one a killed writer never finished: harmless at the end
                    if (writePosition >= 0 && pos > writePosition) {
                        tornTail = true;
                        break;
                    }
                    pos = skip(pos, "record marked incomplete before the writer's last record");
                    continue;
                }
                if (pos + 4 + len > size) { // the padding to the next header may be cut off; the record may not
                    pos = skip(pos, "header length " + len + " runs past the end of the file");
                    continue;
                }
                if ((h & META_DATA) != 0 && (h & NOT_COMPLETE) == 0) {
                    if (!plausibleMeta(pos, len)) {
                        // a garbled header that happens to say "metadata" would otherwise be followed blindly
                        pos = skip(pos, "metadata header with no Chronicle field in it");
                        continue;
                    }
                    landedOnWritePosition |= pos == writePosition;
                    if (index != null && !arraysRead && pos > 0
                            && SegmentIndexCheck.isArray(bytes.read(pos + 4, Math.min(len, 16)))) {
                        index.array(pos, len <= SegmentIndexCheck.MAX_ARRAY_BYTES ? bytes.read(pos + 4, len) : null);
                    }
                    pos = next; // the file header or an index array
                    continue;
                }
                boolean headerDamaged = (h & NOT_COMPLETE) != 0;
                if (!plausible(pos, len)) {
                    pos = skip(pos, headerDamaged ? "header marked incomplete and its length is wrong"
                            : "no record structure at this header");
                    continue;
                }
                if (!decode && !headerDamaged) {
                    landedOnWritePosition |= pos == writePosition;
                    indexed(pos);
                    records++;
                    ordinal++;
                    pos = next;
                    continue;
                }
                byte[] raw = bytes.read(pos + 4, len);
                WalRecord record;
                try {
                    record = RecordCodec.decode(firstIndex + ordinal, segment, raw);
                } catch (CorruptRecordException e) {
                    if (!headerDamaged && trusted(next)) {
                        damage(pos, next, e.getMessage(), raw);
                        pos = next;
                    } else {
                        pos = skip(pos, e.getMessage());
                    }
                    continue;
                }
                if (headerDamaged) {
                    damagedHeaders++;
                    noteFirst(pos, "header marked incomplete, record intact");
                }
                records++;
                landedOnWritePosition |= pos == writePosition;
                indexed(pos);
                visitor.record(ordinal, pos, raw, record, headerDamaged);
                ordinal++;
                pos = next;
            }
            long end = Math.max(pos, 0);
            if (stopped) {
                // resumable: the checks below need the whole walk
            } else if (writePosition >= 0 && pos >= 0 && end <= writePosition && firstDamage == null) {
                // the file stops before the record the writer completed last: its tail was cut off
                damage(end, Math.min(size, writePosition), "the file ends before the writer's last record at byte "
                        + writePosition + " (truncated)", null);
            } else if (writePosition >= startPosition && !landedOnWritePosition && firstDamage == null) {
                // every header looked right, yet the chain never reached the writer's last record: one of them lied
                damage(end, end, "the headers do not lead to the writer's last record at byte " + writePosition, null);
            }
            boolean indexDamaged = false;
            if (index != null && (!stopped || arraysRead) && firstDamage == null) {
                SegmentIndexCheck.Problem problem = index.verify(startOrdinal, ordinal, lastRecordStart);
                if (problem != null) {
                    indexDamaged = true;
                    noteFirst(problem.position(), problem.reason());
                    visitor.indexDamaged(problem.position(), problem.reason());
                }
            }
            return new Summary(records, damagedRecords, damagedHeaders, skippedRanges, skippedBytes,
                    pos < 0 ? unresolvedFrom : end, writePosition, tornTail, firstDamage, firstDamagePosition,
                    firstDamageOrdinal, pos < 0 ? unresolvedOrdinal : ordinal, endOfCycle, indexDamaged);
        }

        private void indexed(long pos) {
            lastRecordStart = pos;
            if (index != null) {
                index.record(ordinal, pos);
            }
        }

        /** The structure of our record fits a document of this length (cheap: a few fields, no CRC). */
        private boolean plausible(long pos, int len) throws IOException {
            return pos + 4 + len <= size && RecordCodec.structureFits(bytes::intAt, pos + 4, len);
        }

        private boolean plausibleMeta(long pos, int len) throws IOException {
            return len >= 3 && metaHeadPlausible(bytes.read(pos + 4, Math.min(len, META_HEAD_BYTES)));
        }

        /** Whether the document at {@code pos} can be believed: an intact record, a metadata document, or the end. */
        private boolean trusted(long pos) throws IOException {
            if (pos + 4 > size) {
                return true;
            }
            int h = bytes.intAt(pos);
            int len = h & LENGTH_MASK;
            if (h == 0 || h == END_OF_DATA || h == NOT_COMPLETE) {
                return writePosition < 0 || pos > writePosition;
            }
            if ((h & NOT_COMPLETE) != 0 || pos + 4 + len > size) {
                return false;
            }
            return (h & META_DATA) != 0 ? plausibleMeta(pos, len) : intact(pos, len);
        }

        private boolean intact(long pos, int len) throws IOException {
            if (!plausible(pos, len)) {
                return false;
            }
            try {
                RecordCodec.decode(0, segment, bytes.read(pos + 4, len));
                return true;
            } catch (CorruptRecordException e) {
                return false;
            }
        }

        /**
         * Resynchronises after damage at {@code pos}: the next aligned position holding an intact record (its header
         * may carry a wrong "not complete" bit). Reports the bytes in between; returns -1 when nothing follows.
         */
        private long skip(long pos, String reason) throws IOException {
            long found = findRecord(pos + 4);
            if (found < 0) {
                unresolvedFrom = pos; // a walk resumed later starts here again: records may follow by then
                unresolvedOrdinal = ordinal;
            }
            damage(pos, found < 0 ? Math.max(pos, lastWrittenByte(pos)) : found, reason, null);
            return found;
        }

        private long findRecord(long from) throws IOException {
            // no complete record lies beyond the writer's last one: bounded there, a search never reads the
            // preallocated (sparse) rest of the file
            long last = writePosition >= 0 ? Math.min(size - 4, writePosition) : size - 4;
            for (long q = align(from); q <= last; q += 4) {
                int h = bytes.intAt(q);
                if ((h & META_DATA) != 0 || (h & LENGTH_MASK) == 0) {
                    continue;
                }
                if (intact(q, h & LENGTH_MASK)) {
                    return q;
                }
            }
            return -1;
        }

        /** Where the written bytes end, for reporting how much a final skip covered: the last non-zero int. */
        private long lastWrittenByte(long from) throws IOException {
            long last = from;
            long limit = writePosition > from ? Math.min(size, writePosition + (1 << 20)) : size;
            for (long q = align(from); q + 4 <= limit; q += 4) {
                if (bytes.intAt(q) != 0) {
                    last = q + 4;
                }
            }
            return last;
        }

        private void damage(long from, long to, String reason, byte[] oneRecord) {
            noteFirst(from, reason);
            if (oneRecord != null) {
                damagedRecords++;
            } else {
                skippedRanges++;
                skippedBytes += Math.max(0, to - from);
            }
            visitor.damaged(ordinal, from, to, reason, oneRecord);
            ordinal++; // a damaged place held at least one record
        }

        private void noteFirst(long pos, String reason) {
            if (firstDamage == null) {
                firstDamage = reason;
                firstDamagePosition = pos;
                firstDamageOrdinal = ordinal;
            }
        }
    }
}
