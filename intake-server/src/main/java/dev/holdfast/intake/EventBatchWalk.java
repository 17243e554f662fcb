package dev.holdfast.intake;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.holdfast.wal.BatchPriority;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One pass over the bytes of a {@code holdfast.v1.EventBatch} that refuses exactly what {@code EventBatch.parseFrom}
 * (protobuf-java 3.25.9) refuses, with the same exception message, and reads only what {@link BatchValidator} needs:
 * the agent_id, the batch_seq, the number of events, each event's size and priority. Nothing is allocated per event
 * or per string: materialising every event only to check it took 19 % of the intake's CPU in a profile.
 *
 * <p>It follows the generated parsing code step by step, calling the same {@link CodedInputStream} methods in the
 * same order, so that the first thing protobuf would stumble on is the first thing this stumbles on:
 * <ul>
 *   <li>a field is known only by its exact tag (number and wire type, as the generated {@code switch} matches it);
 *       a known number with another wire type is an unknown field;</li>
 *   <li>unknown fields of EventBatch, Event, FileEvent and LogRecord go where protobuf puts them, into an
 *       {@code UnknownFieldSet} ({@link #unknownField}); those of a map entry are skipped with
 *       {@code CodedInputStream.skipField} ({@link #skipField}); the two count nested groups' depth at different
 *       moments, so for some broken bytes they name a different first problem, which is why both are here;</li>
 *   <li>every occurrence of a {@code string} field must be UTF-8 (proto3 checks each as it reads it, even one a
 *       later occurrence replaces), map keys and values included;</li>
 *   <li>nested messages (event, map entry, file, log) and unknown groups together may go 100 levels deep
 *       ({@link #RECURSION_LIMIT}): the stream's own depth count is not used (this reads nested messages with
 *       {@code pushLimit}, not {@code readMessage}), so it is kept here.</li>
 * </ul>
 * Repeated occurrences of a singular field are each read and checked; the last wins (agent_id, batch_seq, an event's
 * priority). Messages that protobuf would merge (a second {@code file} body, say) are each checked on their own,
 * which refuses the same bytes, since nothing in these messages is validated across occurrences.
 */
final class EventBatchWalk {
    /** CodedInputStream's default recursion limit, which EventBatch.parseFrom(byte[]) uses. */
    static final int RECURSION_LIMIT = 100;

    // Tags as the generated code matches them: (field number << 3) | wire type.
    private static final int BATCH_AGENT_ID = 10;       // 1, string
    private static final int BATCH_SEQ = 16;            // 2, uint64
    private static final int BATCH_EVENT = 26;          // 3, Event
    private static final int EVENT_TIME = 9;            // 1, fixed64
    private static final int EVENT_PRIORITY = 16;       // 2, enum
    private static final int EVENT_ATTRIBUTE = 26;      // 3, map<string, string> entry
    private static final int EVENT_FILE = 82;           // 10, FileEvent
    private static final int EVENT_LOG = 90;            // 11, LogRecord
    private static final int EVENT_OPAQUE = 98;         // 12, bytes
    private static final int ENTRY_KEY = 10;            // 1, string
    private static final int ENTRY_VALUE = 18;          // 2, string
    private static final int LOG_BODY = 10;             // 1, string
    private static final int LOG_SEVERITY = 16;         // 2, enum

    // The messages of InvalidProtocolBufferException's package-private factories, for the refusals this class finds
    // itself rather than through CodedInputStream.
    private static final String INVALID_UTF8 = "Protocol message had invalid UTF-8.";
    private static final String TRUNCATED = "While parsing a protocol message, the input ended unexpectedly "
            + "in the middle of a field.  This could mean either that the input has been truncated or that an "
            + "embedded message misreported its own length.";
    private static final String TOO_DEEP = "Protocol message had too many levels of nesting.  May be malicious.  "
            + "Use setRecursionLimit() to increase the recursion depth limit.";
    private static final String INVALID_WIRE_TYPE = "Protocol message tag had invalid wire type.";

    private final byte[] bytes;
    private final CodedInputStream in;
    private final int noteEventsOver;

    private int agentStart;
    private int agentLength;
    private long batchSeq;
    private int events;
    private int largestEventBytes;
    private int firstEventOver = -1;
    private int firstEventOverBytes;
    private boolean critical;
    private boolean normal;

    private EventBatchWalk(byte[] bytes, int noteEventsOver) {
        this.bytes = bytes;
        this.in = CodedInputStream.newInstance(bytes); // as EventBatch.parseFrom(byte[]) makes it
        this.noteEventsOver = noteEventsOver;
    }

    /** @throws InvalidProtocolBufferException when, and as, {@code EventBatch.parseFrom(batch)} would throw */
    static EventBatchWalk walk(byte[] batch) throws InvalidProtocolBufferException {
        return walk(batch, Integer.MAX_VALUE);
    }

    /**
     * As {@link #walk(byte[])}, also noting the first event of more than {@code noteEventsOver} bytes
     * ({@link #firstEventOver()}): the limit depends on the agent id, known only once the whole batch is read, so
     * a batch with an event too large is walked twice, and only such a batch.
     */
    static EventBatchWalk walk(byte[] batch, int noteEventsOver) throws InvalidProtocolBufferException {
        EventBatchWalk w = new EventBatchWalk(batch, noteEventsOver);
        try {
            w.batch();
            w.in.checkLastTagWas(0); // as AbstractParser.parseFrom: a stray end-group tag at the top is refused
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) { // not from a byte array; as the generated parser wraps it
            throw new InvalidProtocolBufferException(e);
        }
        return w;
    }

    /** The last agent_id in the batch ("" when there is none), as EventBatch.getAgentId() reads it. */
    String agentId() {
        return agentLength == 0 ? "" : new String(bytes, agentStart, agentLength, StandardCharsets.UTF_8);
    }

    long batchSeq() {
        return batchSeq;
    }

    int events() {
        return events;
    }

    /**
     * The largest event as sent: the length of its bytes in the batch, which is what the forwarder puts in Kafka
     * (EventRecords slices them out unchanged), not the size of the event re-serialised.
     */
    int largestEventBytes() {
        return largestEventBytes;
    }

    /** Index of the first event over {@code noteEventsOver} bytes, -1 when none is. */
    int firstEventOver() {
        return firstEventOver;
    }

    int firstEventOverBytes() {
        return firstEventOverBytes;
    }

    /**
     * A batch is as important as its most important event, so that shedding it never drops a CRITICAL event. An
     * event's priority is its last priority field; PRIORITY_UNSPECIFIED and numbers the enum does not know
     * (protobuf's UNRECOGNIZED) count as NORMAL.
     */
    BatchPriority priority() {
        return critical ? BatchPriority.CRITICAL : normal ? BatchPriority.NORMAL : BatchPriority.BULK;
    }

    // EventBatch.Builder.mergeFrom, at depth 0.
    private void batch() throws IOException {
        while (true) {
            int tag = in.readTag();
            switch (tag) {
                case 0:
                    return;
                case BATCH_AGENT_ID:
                    agentStart = string();
                    agentLength = in.getTotalBytesRead() - agentStart;
                    break;
                case BATCH_SEQ:
                    batchSeq = in.readUInt64();
                    break;
                case BATCH_EVENT: {
                    int length = in.readRawVarint32();
                    int outer = enter(length, 0);
                    int priority = event(1);
                    leave(outer);
                    if (length > largestEventBytes) {
                        largestEventBytes = length;
                    }
                    if (length > noteEventsOver && firstEventOver < 0) {
                        firstEventOver = events;
                        firstEventOverBytes = length;
                    }
                    if (priority == 1) { // CRITICAL
                        critical = true;
                    } else if (priority != 3) { // not BULK: NORMAL, UNSPECIFIED, UNRECOGNIZED
                        normal = true;
                    }
                    events++;
                    break;
                }
                default:
                    if (!unknownField(tag, 0)) {
                        return; // an end-group tag: walk() refuses it
                    }
            }
        }
    }

    /** Event.Builder.mergeFrom; returns the event's priority number (the last one; 0 when absent). */
    private int event(int depth) throws IOException {
        int priority = 0;
        while (true) {
            int tag = in.readTag();
            switch (tag) {
                case 0:
                    return priority;
                case EVENT_TIME:
                    in.readFixed64();
                    break;
                case EVENT_PRIORITY:
                    priority = in.readEnum(); // a 10-byte varint is cut to 32 bits, as protobuf does
                    break;
                case EVENT_ATTRIBUTE: {
                    int outer = enter(in.readRawVarint32(), depth);
                    mapEntry(depth + 1);
                    leave(outer);
                    break;
                }
                case EVENT_FILE: {
                    int outer = enter(in.readRawVarint32(), depth);
                    fileEvent(depth + 1);
                    leave(outer);
                    break;
                }
                case EVENT_LOG: {
                    int outer = enter(in.readRawVarint32(), depth);
                    logRecord(depth + 1);
                    leave(outer);
                    break;
                }
                case EVENT_OPAQUE:
                    in.skipRawBytes(in.readRawVarint32()); // refuses what readBytes() refuses
                    break;
                default:
                    if (!unknownField(tag, depth)) {
                        return priority; // an end-group tag: leave() refuses it
                    }
            }
        }
    }

    /**
     * The map entry parser (MapEntryLite.parseEntry): key and value are strings, checked as UTF-8; anything else,
     * a key or value with another wire type included, is skipped with CodedInputStream.skipField, not kept.
     */
    private void mapEntry(int depth) throws IOException {
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return;
            }
            if (tag == ENTRY_KEY || tag == ENTRY_VALUE) {
                string();
            } else if (!skipField(tag, depth)) {
                return; // an end-group tag: leave() refuses it
            }
        }
    }

    /** FileEvent.Builder.mergeFrom. */
    private void fileEvent(int depth) throws IOException {
        while (true) {
            int tag = in.readTag();
            switch (tag) {
                case 0:
                    return;
                case 18, 26, 74, 138: // path, new_path, comm, source
                    string();
                    break;
                case 8: // kind
                    in.readEnum();
                    break;
                case 32, 40, 48, 56, 64, 104, 112: // pid, tid, ppid, uid, gid, mode, flags
                    in.readUInt32();
                    break;
                case 80, 88, 96: // cgroup_id, inode, dev
                    in.readUInt64();
                    break;
                case 120: // return_value
                    in.readInt64();
                    break;
                case 128: // path_truncated
                    in.readBool();
                    break;
                default:
                    if (!unknownField(tag, depth)) {
                        return;
                    }
            }
        }
    }

    /** LogRecord.Builder.mergeFrom. */
    private void logRecord(int depth) throws IOException {
        while (true) {
            int tag = in.readTag();
            switch (tag) {
                case 0:
                    return;
                case LOG_BODY:
                    string();
                    break;
                case LOG_SEVERITY:
                    in.readEnum();
                    break;
                default:
                    if (!unknownField(tag, depth)) {
                        return;
                    }
            }
        }
    }

    /**
     * readMessage up to the nested message's fields, in its order: the length, then the depth, then the limit. The
     * message's fields are read at {@code depth + 1}.
     *
     * @return the limit to restore with {@link #leave}
     */
    private int enter(int length, int depth) throws IOException {
        if (depth >= RECURSION_LIMIT) {
            throw new InvalidProtocolBufferException(TOO_DEEP);
        }
        return in.pushLimit(length);
    }

    /** readMessage after the nested message's fields: it must have ended at its length, not at an end-group tag. */
    private void leave(int outerLimit) throws IOException {
        in.checkLastTagWas(0);
        if (in.getBytesUntilLimit() != 0) { // cannot happen once the last tag was 0; kept as protobuf has it
            throw new InvalidProtocolBufferException(TRUNCATED);
        }
        in.popLimit(outerLimit);
    }

    /**
     * readStringRequireUtf8 without making the String: the same length checks (skipRawBytes refuses a negative or
     * overlong length with readStringRequireUtf8's messages), then the bytes must be UTF-8.
     *
     * @return where the string's bytes start
     */
    private int string() throws IOException {
        int length = in.readRawVarint32();
        int start = in.getTotalBytesRead(); // the offset in bytes: the stream starts at 0
        in.skipRawBytes(length);
        if (!Utf8Check.isValid(bytes, start, start + length)) {
            throw new InvalidProtocolBufferException(INVALID_UTF8);
        }
        return start;
    }

    /**
     * UnknownFieldSet.Builder.mergeFieldFrom, reading what it would keep without keeping it. A group is read with
     * readGroup: one level of depth per group.
     *
     * @return false for an end-group tag
     */
    private boolean unknownField(int tag, int depth) throws IOException {
        switch (WireFormat.getTagWireType(tag)) {
            case WireFormat.WIRETYPE_VARINT:
                in.readInt64();
                return true;
            case WireFormat.WIRETYPE_FIXED64:
                in.readFixed64();
                return true;
            case WireFormat.WIRETYPE_LENGTH_DELIMITED:
                in.skipRawBytes(in.readRawVarint32()); // refuses what readBytes() refuses
                return true;
            case WireFormat.WIRETYPE_START_GROUP:
                if (depth >= RECURSION_LIMIT) {
                    throw new InvalidProtocolBufferException(TOO_DEEP);
                }
                while (true) { // UnknownFieldSet.Builder.mergeFrom(CodedInputStream)
                    int inner = in.readTag();
                    if (inner == 0 || !unknownField(inner, depth + 1)) {
                        break;
                    }
                }
                in.checkLastTagWas(endGroup(tag));
                return true;
            case WireFormat.WIRETYPE_END_GROUP:
                return false;
            case WireFormat.WIRETYPE_FIXED32:
                in.readFixed32();
                return true;
            default:
                throw new InvalidProtocolBufferException.InvalidWireTypeException(INVALID_WIRE_TYPE);
        }
    }

    /**
     * CodedInputStream.skipField with this walk's depth: a group is skipped with skipMessage, which checks the
     * depth before each field it skips rather than once on entering the group, as readGroup does. Groups nest as
     * deep either way, but for some broken bytes the first refusal differs (a group cut off where it is too deep:
     * readGroup says too deep, skipMessage a missing end-group tag). Other wire types are the stream's own
     * skipField.
     *
     * @return false for an end-group tag
     */
    private boolean skipField(int tag, int depth) throws IOException {
        if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_START_GROUP) {
            return in.skipField(tag);
        }
        while (true) { // skipMessage
            int inner = in.readTag();
            if (inner == 0) {
                break;
            }
            if (depth >= RECURSION_LIMIT) {
                throw new InvalidProtocolBufferException(TOO_DEEP);
            }
            if (!skipField(inner, depth + 1)) {
                break;
            }
        }
        in.checkLastTagWas(endGroup(tag));
        return true;
    }

    /** The end-group tag that closes a group opened by {@code startTag} (WireFormat.makeTag is not public). */
    private static int endGroup(int startTag) {
        return (startTag & ~7) | WireFormat.WIRETYPE_END_GROUP;
    }
}
