package dev.holdfast.intake;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.LogRecord;
import dev.holdfast.protocol.v1.Priority;
import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.HexFormat;
import java.util.List;

import static dev.holdfast.intake.BatchValidatorEquivalenceTest.bytes;
import static dev.holdfast.intake.BatchValidatorEquivalenceTest.concat;
import static dev.holdfast.intake.BatchValidatorEquivalenceTest.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * {@link BatchValidator}'s walk, case by case: each kind of bytes protobuf refuses, each it accepts though it might
 * look wrong, and where the nesting limit falls in each kind of message, every case also held to
 * {@link ParseFromValidator}.
 */
class BatchValidatorWalkTest {
    private static final BatchValidator.Limits LIMITS = new BatchValidator.Limits(1 << 20, 10_000, 64);
    private static final String MALFORMED = "malformed protobuf: not a holdfast.v1.EventBatch (";
    private static final String UTF8 = MALFORMED + "Protocol message had invalid UTF-8.)";
    private static final String END_GROUP = MALFORMED + "Protocol message end-group tag did not match expected tag.)";
    private static final String TOO_DEEP = MALFORMED + "Protocol message had too many levels of nesting.  May be "
            + "malicious.  Use setRecursionLimit() to increase the recursion depth limit.)";
    private static final String TRUNCATED = MALFORMED + "While parsing a protocol message, the input ended "
            + "unexpectedly in the middle of a field.  This could mean either that the input has been truncated or "
            + "that an embedded message misreported its own length.)";
    private static final String WIRE_TYPE = MALFORMED + "Protocol message tag had invalid wire type.)";
    private static final byte[] NOT_UTF8 = bytes(0xC0, 0x80); // an overlong NUL: modified UTF-8, not UTF-8

    // ---- helpers ----

    /** The walk's result, asserted to be the parseFrom oracle's (measuring events as sent). */
    private static BatchValidator.Result check(byte[] batch, EventSizeLimit size) {
        BatchValidator.Result walked = new BatchValidator(LIMITS, size).validate(batch, 1, null);
        BatchValidator.Result parsed = new ParseFromValidator(LIMITS, size, ParseFromValidator.SizeMeasure.WIRE)
                .validate(batch, 1, null);
        BatchValidatorEquivalenceTest.assertSameResult(parsed, walked, HexFormat.of().formatHex(batch));
        return walked;
    }

    private static String refused(byte[] batch) {
        return assertInstanceOf(BatchValidator.Invalid.class, check(batch, EventSizeLimit.NONE)).message();
    }

    private static BatchHeader accepted(byte[] batch) {
        return assertInstanceOf(BatchValidator.Valid.class, check(batch, EventSizeLimit.NONE)).header();
    }

    /** agent-1, seq 7, and the given top-level bytes (events among them). */
    private static byte[] batch(byte[]... topLevel) throws IOException {
        return concat(List.of(raw(o -> o.writeString(1, "agent-1")), raw(o -> o.writeUInt64(2, 7)),
                concat(List.of(topLevel))));
    }

    private static byte[] event(byte[]... fields) throws IOException {
        byte[] e = concat(List.of(fields));
        return raw(o -> o.writeByteArray(3, e));
    }

    private static byte[] field(int number, byte[] value) throws IOException {
        return raw(o -> o.writeByteArray(number, value));
    }

    private static byte[] varint(int number, long value) throws IOException {
        return raw(o -> o.writeUInt64(number, value));
    }

    private static byte[] tag(int number, int wireType) throws IOException {
        return raw(o -> o.writeTag(number, wireType));
    }

    private static byte[] withText(String prefix, byte[] bad) {
        return concat(List.of(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8), bad));
    }

    private static byte[] groups(int number, int depth) throws IOException {
        return raw(o -> {
            for (int i = 0; i < depth; i++) {
                o.writeTag(number, WireFormat.WIRETYPE_START_GROUP);
            }
            for (int i = 0; i < depth; i++) {
                o.writeTag(number, WireFormat.WIRETYPE_END_GROUP);
            }
        });
    }

    private static final byte[] PLAIN_EVENT = Event.newBuilder().setPriority(Priority.NORMAL).build().toByteArray();

    // ---- what protobuf refuses ----

    @Test
    void malformedVarintsAreRefused() throws IOException {
        byte[] eleven = bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
        String varint = MALFORMED + "CodedInputStream encountered a malformed varint.)";
        assertEquals(varint, refused(batch(tag(2, 0), eleven)));
        assertEquals(varint, refused(batch(event(tag(2, 0), eleven)))); // priority
        assertEquals(varint, refused(batch(event(field(10, concat(List.of(tag(4, 0), eleven))))))); // pid
        assertEquals(varint, refused(batch(event(PLAIN_EVENT), tag(9, 0), eleven))); // unknown, at the top
    }

    @Test
    void lengthsBeyondTheirMessageAreRefused() throws IOException {
        assertEquals(TRUNCATED, refused(batch(bytes(0x1A, 10, 0x10, 0x02)))); // event of 10 bytes, 2 there
        // a string running past its event's end, though not past the batch's
        assertEquals(TRUNCATED, refused(batch(event(bytes(0x52, 3, 0x12, 5, 'a', 'b')), event(PLAIN_EVENT))));
        assertEquals(TRUNCATED, refused(batch(event(bytes(0x62, 4, 1, 2))))); // opaque
        assertEquals(TRUNCATED, refused(batch(event(PLAIN_EVENT), bytes(0x0D, 1, 2)))); // fixed32, cut
        assertEquals(MALFORMED + "CodedInputStream encountered an embedded string or message which claimed to have "
                + "negative size.)", refused(batch(event(bytes(0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)))));
    }

    @Test
    void invalidWireTypesAndTagZeroAreRefused() throws IOException {
        for (int wireType : new int[] {6, 7}) {
            assertEquals(WIRE_TYPE, refused(batch(event(PLAIN_EVENT), tag(5, wireType))));
            assertEquals(WIRE_TYPE, refused(batch(event(tag(5, wireType)))));
            assertEquals(WIRE_TYPE, refused(batch(event(field(10, tag(30, wireType))))));
            assertEquals(WIRE_TYPE, refused(batch(event(field(3, tag(3, wireType)))))); // in a map entry
        }
        String zero = MALFORMED + "Protocol message contained an invalid tag (zero).)";
        assertEquals(zero, refused(batch(event(PLAIN_EVENT), bytes(0))));
        assertEquals(zero, refused(batch(event(bytes(0x10, 1, 0)))));
        assertEquals(zero, refused(batch(event(field(3, bytes(0x0A, 0, 0x07)))))); // field 0, fixed32, in an entry
    }

    @Test
    void groupsMustCloseWithTheirOwnEndTag() throws IOException {
        assertEquals(END_GROUP, refused(batch(event(PLAIN_EVENT), tag(5, 4)))); // stray, at the top
        assertEquals(END_GROUP, refused(batch(event(tag(5, 4)))));
        assertEquals(END_GROUP, refused(batch(event(field(11, tag(5, 4)))))); // in a log record
        assertEquals(END_GROUP, refused(batch(event(field(3, concat(List.of(tag(1, 4)))))))); // in a map entry
        assertEquals(END_GROUP, refused(batch(event(PLAIN_EVENT), tag(5, 3)))); // never closed
        assertEquals(END_GROUP, refused(batch(event(PLAIN_EVENT), tag(5, 3), tag(6, 4)))); // closed as another
        assertEquals(END_GROUP, refused(batch(event(field(3, concat(List.of(tag(5, 3), tag(6, 4))))))));
        // a group left open inside an event is not closed by the batch's bytes after it
        assertEquals(END_GROUP, refused(batch(event(tag(5, 3)), tag(5, 4))));
        // well formed: accepted wherever they are
        accepted(batch(event(PLAIN_EVENT), tag(5, 3), varint(1, 1), tag(5, 4)));
        accepted(batch(event(PLAIN_EVENT, field(10, groups(30, 3)), field(3, groups(9, 3)))));
    }

    @Test
    void everyStringFieldMustBeUtf8() throws IOException {
        byte[] bad = withText("/etc/", NOT_UTF8);
        assertEquals(UTF8, refused(concat(List.of(field(1, bad), varint(2, 7), event(PLAIN_EVENT)))));
        assertEquals(UTF8, refused(batch(event(field(3, field(1, bad)))))); // attribute key
        assertEquals(UTF8, refused(batch(event(field(3, concat(List.of(field(1, bytes('k')), field(2, bad)))))))); // value
        for (int fileField : new int[] {2, 3, 9, 17}) { // path, new_path, comm, source
            assertEquals(UTF8, refused(batch(event(field(10, field(fileField, bad))))), "FileEvent." + fileField);
        }
        assertEquals(UTF8, refused(batch(event(field(11, field(1, bad)))))); // log body
        // each occurrence is checked, even one a later occurrence replaces
        assertEquals(UTF8, refused(batch(field(1, bad), event(PLAIN_EVENT))));
        assertEquals(UTF8, refused(batch(event(field(10, field(2, bad)), field(10, field(2, bytes('a')))))));
        // lone surrogates as CESU-8 writes them, bytes no UTF-8 has, a sequence cut off by the string's end
        for (byte[] b : List.of(bytes(0xED, 0xA0, 0x80), bytes(0xED, 0xBF, 0xBF), bytes(0xFF), bytes(0xE2, 0x82),
                bytes(0xF4, 0x90, 0x80, 0x80), bytes(0x80))) {
            assertEquals(UTF8, refused(batch(event(field(11, field(1, b))))));
        }
    }

    @Test
    void bytesThatAreNotStringsNeedNotBeUtf8() throws IOException {
        byte[] bad = withText("x", NOT_UTF8);
        accepted(batch(event(PLAIN_EVENT, field(12, bad)))); // opaque
        accepted(batch(event(PLAIN_EVENT), field(9, bad))); // unknown, at the top
        accepted(batch(event(PLAIN_EVENT, field(40, bad)))); // unknown, in the event
        accepted(batch(event(PLAIN_EVENT, field(3, concat(List.of(field(1, bytes('k')), field(3, bad))))))); // entry
        accepted(batch(event(PLAIN_EVENT, field(10, field(18, bad))))); // unknown, in a file event
    }

    // ---- what protobuf accepts ----

    @Test
    void aKnownNumberWithAnotherWireTypeIsAnUnknownField() throws IOException {
        // agent_id as a varint: unknown, so the batch has no agent_id
        assertEquals("agent_id is empty", refused(concat(List.of(varint(1, 5), varint(2, 7), event(PLAIN_EVENT)))));
        // batch_seq as bytes: unknown, so the batch has no seq
        assertEquals("batch_seq must be at least 1", refused(concat(List.of(raw(o -> o.writeString(1, "a")),
                field(2, bytes(7)), event(PLAIN_EVENT)))));
        // events as a varint: counted against limits.maxEventsPerBatch (by field number), but not an event
        assertEquals("batch has no events", refused(batch(varint(3, 1))));
        // priority as bytes is not a priority; a map key as a varint is skipped, leaving the key ""
        BatchHeader h = accepted(batch(event(varint(2, 3), field(2, bytes(1)), field(3, varint(1, 4)))));
        assertEquals(BatchPriority.BULK, h.priority());
        // a path as a varint: unknown; a string with the wrong wire type is never read as text
        accepted(batch(event(field(10, varint(2, 99)))));
    }

    @Test
    void theLastOccurrenceOfASingularFieldWins() throws IOException {
        BatchHeader h = accepted(concat(List.of(raw(o -> o.writeString(1, "first")), varint(2, 3),
                event(varint(2, 1), varint(2, 3)), raw(o -> o.writeString(1, "agent-2")), varint(2, 9))));
        assertEquals("agent-2", h.agentId());
        assertEquals(9, h.batchSeq());
        assertEquals(BatchPriority.BULK, h.priority()); // CRITICAL, then BULK: BULK
        assertEquals(BatchPriority.CRITICAL, accepted(batch(event(varint(2, 3), varint(2, 1)))).priority());
        // the last agent_id may be empty, and then the batch has none
        assertEquals("agent_id is empty", refused(concat(List.of(raw(o -> o.writeString(1, "a")), field(1,
                new byte[0]), varint(2, 7), event(PLAIN_EVENT)))));
    }

    @Test
    void oneofBodiesAreEachReadWhicheverWins() throws IOException {
        byte[] file = FileEvent.newBuilder().setPath("/etc/passwd").setComm("vi").build().toByteArray();
        byte[] log = LogRecord.newBuilder().setBody("hello").build().toByteArray();
        accepted(batch(event(field(10, file), field(11, log), field(12, bytes(1)), field(10, file))));
        // the log replaces the file, but the file was read first, and was not UTF-8
        assertEquals(UTF8, refused(batch(event(field(10, field(9, NOT_UTF8)), field(11, log)))));
    }

    @Test
    void mapEntriesMayLackKeyOrValueOrRepeatThem() throws IOException {
        accepted(batch(event(PLAIN_EVENT, field(3, new byte[0]), field(3, field(2, bytes('v'))),
                field(3, concat(List.of(field(1, bytes('a')), field(1, bytes('b')), field(2, bytes('v'))))))));
        // unknown fields of every kind, a group among them
        accepted(batch(event(PLAIN_EVENT, field(3, concat(List.of(varint(7, 1), tag(8, 3), varint(1, 1), tag(8, 4),
                raw(o -> o.writeFixed64(9, 1)), raw(o -> o.writeFixed32(10, 1))))))));
    }

    @Test
    void priorityIsAsGetPriorityReadsIt() throws IOException {
        // numbers the enum does not know are UNRECOGNIZED, which counts as NORMAL, as PRIORITY_UNSPECIFIED does
        assertEquals(BatchPriority.NORMAL, accepted(batch(event(varint(2, 3)), event(varint(2, 7)))).priority());
        assertEquals(BatchPriority.NORMAL, accepted(batch(event(varint(2, 3)), event(varint(2, 0)))).priority());
        assertEquals(BatchPriority.NORMAL, accepted(batch(event(varint(2, 3)), event(new byte[0]))).priority());
        assertEquals(BatchPriority.NORMAL, accepted(batch(event(varint(2, -1)))).priority());
        assertEquals(BatchPriority.BULK, accepted(batch(event(varint(2, 3)), event(varint(2, 3)))).priority());
        // an enum is read as 32 bits: 2^32 + 1 is CRITICAL
        assertEquals(BatchPriority.CRITICAL, accepted(batch(event(varint(2, 3)), event(varint(2, (1L << 32) + 1))))
                .priority());
        assertEquals(Priority.CRITICAL, Event.parseFrom(varint(2, (1L << 32) + 1)).getPriority());
    }

    // ---- nesting ----

    /**
     * How deep unknown groups may nest, in protobuf-java 3.25.9 with its default limit of 100: a nested message is
     * one level and each group one more, so groups nest 100 deep at the top of the batch, 99 in an event and 98 in
     * its file event, log record or attribute entry. (In an attribute entry they are skipped with skipMessage, which
     * counts differently, to the same depth.)
     */
    @Test
    void groupsNestAsDeepAsProtobufAllows() throws IOException {
        for (int depth = 90; depth <= 110; depth++) {
            int d = depth;
            expectNesting(batch(event(PLAIN_EVENT), groups(5, d)), d <= 100, "top, " + d);
            expectNesting(batch(event(PLAIN_EVENT, groups(5, d))), d <= 99, "event, " + d);
            expectNesting(batch(event(field(10, groups(30, d)))), d <= 98, "file, " + d);
            expectNesting(batch(event(field(11, groups(30, d)))), d <= 98, "log, " + d);
            expectNesting(batch(event(field(3, groups(30, d)))), d <= 98, "attribute entry, " + d);
        }
    }

    private static void expectNesting(byte[] batch, boolean accepted, String where) {
        BatchValidator.Result r = check(batch, EventSizeLimit.NONE);
        if (accepted) {
            assertInstanceOf(BatchValidator.Valid.class, r, where);
        } else {
            assertEquals(TOO_DEEP, assertInstanceOf(BatchValidator.Invalid.class, r, where).message(), where);
        }
    }

    /**
     * 99 groups opened and never closed: at the top that is not too deep, so the missing end tag is what is wrong;
     * in a file event readGroup finds the 99th too deep on entering it; in an attribute entry skipMessage, which
     * checks the depth only on reading a field inside, finds the entry's end before any field of the 99th group.
     */
    @Test
    void anUnclosedGroupTooDeepIsRefusedAsProtobufSaysIt() throws IOException {
        byte[] open = raw(o -> {
            for (int i = 0; i < 99; i++) {
                o.writeTag(30, WireFormat.WIRETYPE_START_GROUP);
            }
        });
        assertEquals(END_GROUP, refused(batch(event(PLAIN_EVENT), open)));
        assertEquals(TOO_DEEP, refused(batch(event(field(10, open)))));
        assertEquals(END_GROUP, refused(batch(event(field(3, open)))));
    }

    // ---- size and count ----

    /**
     * The deliberate change: an event is measured as sent (its length in the batch, what the forwarder puts in
     * Kafka), not re-serialised. They differ only for bytes protobuf would not write that way.
     */
    @Test
    void anEventIsMeasuredAsSentNotAsReSerialised() throws IOException {
        byte[] twice = concat(List.of(varint(2, 3), varint(2, 3), field(12, new byte[40]))); // priority repeated
        int sent = twice.length;
        int reserialised = Event.parseFrom(twice).getSerializedSize();
        assertEquals(sent - 2, reserialised);
        EventSizeLimit limit = new EventSizeLimit(reserialised, null);
        byte[] batch = batch(event(PLAIN_EVENT), event(twice));
        assertEquals("event 1 is " + sent + " bytes, over the limit of " + reserialised + " bytes "
                + "(limits.maxEventBytes); nothing of this batch was written",
                assertInstanceOf(BatchValidator.Invalid.class, check(batch, limit)).message());
        assertInstanceOf(BatchValidator.Valid.class, new ParseFromValidator(LIMITS, limit,
                ParseFromValidator.SizeMeasure.RESERIALISED).validate(batch, 1, null));
        // the other way: an empty map entry takes 2 bytes as sent and 6 re-serialised (key and value written out)
        byte[] entry = field(3, new byte[0]);
        assertEquals(6, Event.parseFrom(entry).getSerializedSize());
        assertInstanceOf(BatchValidator.Valid.class, check(batch(event(entry)), new EventSizeLimit(2, null)));
    }

    @Test
    void theFirstEventOverTheLimitIsNamedNotTheLargest() throws IOException {
        byte[] batch = batch(event(field(12, new byte[50])), event(field(12, new byte[300])),
                event(field(12, new byte[500])));
        assertEquals("event 1 is 303 bytes, over the limit of 200 bytes (limits.maxEventBytes); nothing of this "
                + "batch was written", assertInstanceOf(BatchValidator.Invalid.class,
                check(batch, new EventSizeLimit(200, null))).message());
    }

    @Test
    void tooManyEventsIsSaidBeforeWhatIsWrongInsideThem() throws IOException {
        BatchValidator small = new BatchValidator(new BatchValidator.Limits(1 << 20, 2, 64));
        byte[] batch = batch(event(PLAIN_EVENT), event(field(11, field(1, NOT_UTF8))), event(PLAIN_EVENT));
        assertEquals(new BatchValidator.Invalid(7, "batch has 3 events, over the limit of 2 (limits.maxEventsPerBatch)"),
                small.validate(batch, 1, null));
    }

    // ---- the proto ----

    /**
     * The walk knows the fields of holdfast.v1 by their tags: a field added to intake.proto would be an unknown field
     * to it (a new string not checked as UTF-8), so a change to these messages must come with one to the walk.
     */
    @Test
    void theWalkKnowsEveryFieldOfTheProto() {
        assertEquals("1 agent_id STRING, 2 batch_seq UINT64, 3 events MESSAGE", fields(EventBatch.getDescriptor()));
        assertEquals("1 time_unix_nano FIXED64, 2 priority ENUM, 3 attributes MESSAGE, 10 file MESSAGE, "
                + "11 log MESSAGE, 12 opaque BYTES", fields(Event.getDescriptor()));
        assertEquals("1 key STRING, 2 value STRING",
                fields(Event.getDescriptor().findFieldByName("attributes").getMessageType()));
        assertEquals("1 kind ENUM, 2 path STRING, 3 new_path STRING, 4 pid UINT32, 5 tid UINT32, 6 ppid UINT32, "
                + "7 uid UINT32, 8 gid UINT32, 9 comm STRING, 10 cgroup_id UINT64, 11 inode UINT64, 12 dev UINT64, "
                + "13 mode UINT32, 14 flags UINT32, 15 return_value INT64, 16 path_truncated BOOL, 17 source STRING",
                fields(FileEvent.getDescriptor()));
        assertEquals("1 body STRING, 2 severity ENUM", fields(LogRecord.getDescriptor()));
    }

    private static String fields(com.google.protobuf.Descriptors.Descriptor message) {
        return String.join(", ", message.getFields().stream()
                .map(f -> f.getNumber() + " " + f.getName() + " " + f.getType()).toList());
    }

    // ---- UTF-8 ----

    /**
     * Utf8Check against protobuf's own decoding of a string field: every sequence of one or two bytes, and every
     * three- and four-byte one with a lead byte of E0 or above and any second byte (where the overlong, surrogate
     * and beyond-U+10FFFF rules are), its further bytes from a spread of boundaries.
     */
    @Test
    void utf8CheckAgreesWithProtobufOnShortSequences() {
        byte[] buf = new byte[5];
        int[] spread = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
        int[] continuations = {0x41, 0x80, 0xBF, 0xC0};
        for (int b1 = 0; b1 < 256; b1++) {
            agree(buf, b1);
            for (int b2 = 0; b2 < 256; b2++) {
                agree(buf, b1, b2);
                if (b1 >= 0xE0) {
                    for (int b3 : spread) {
                        agree(buf, b1, b2, b3);
                    }
                }
                if (b1 >= 0xF0) {
                    for (int b3 : continuations) {
                        for (int b4 : continuations) {
                            agree(buf, b1, b2, b3, b4);
                        }
                    }
                }
            }
        }
    }

    /**
     * Utf8Check skips ASCII eight bytes at a time: a sequence after an ASCII run of every length from 0 to 20 (so at
     * every position within and across the eight-byte steps), inside a range that starts at an odd offset, must be
     * judged as protobuf judges it; a non-ASCII byte in any of the eight must stop the skip.
     */
    @Test
    void utf8CheckAgreesWithProtobufAfterAsciiRunsOfEveryLength() {
        int[][] sequences = {{}, {0x41}, {0x80}, {0xC0, 0x80}, {0xC3, 0xA9}, {0xE2, 0x82, 0xAC}, {0xED, 0xA0, 0x80},
                {0xF0, 0x9F, 0x98, 0x80}, {0xF4, 0x90, 0x80, 0x80}, {0xFF}, {0xC3}, {0xE2, 0x82}};
        for (int run = 0; run <= 20; run++) {
            for (int[] sequence : sequences) {
                for (int tail = 0; tail <= 9; tail += 9) { // and with ASCII after it, across another step
                    int[] all = new int[run + sequence.length + tail];
                    java.util.Arrays.fill(all, 'a');
                    System.arraycopy(sequence, 0, all, run, sequence.length);
                    agree(new byte[all.length + 1], all);
                }
            }
        }
    }

    private static void agree(byte[] buf, int... sequence) {
        buf[0] = (byte) sequence.length; // the string's length, then its bytes: a string field without its tag
        for (int i = 0; i < sequence.length; i++) {
            buf[i + 1] = (byte) sequence[i];
        }
        boolean protobuf;
        try {
            CodedInputStream.newInstance(buf, 0, sequence.length + 1).readStringRequireUtf8();
            protobuf = true;
        } catch (InvalidProtocolBufferException e) {
            protobuf = false;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(protobuf, Utf8Check.isValid(buf, 1, sequence.length + 1), () -> HexFormat.of().formatHex(buf,
                1, sequence.length + 1));
    }
}
