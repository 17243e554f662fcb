package dev.holdfast.intake;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.WireFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.FileEvent;
import dev.holdfast.protocol.v1.LogRecord;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BatchValidator} (which walks the bytes with {@link EventBatchWalk}) against {@link ParseFromValidator} (the
 * validation as it was, on {@code EventBatch.parseFrom}), on batches built with the real builders, composed at the
 * byte level (fields repeated, messages merged, unknown fields and groups, strings that are not UTF-8) and then
 * damaged at random. They must agree on Valid or Invalid, on the message, and on the header of a valid batch.
 *
 * <p>Seeded: {@code -Dholdfast.fuzz.seed=N} repeats a run, {@code -Dholdfast.fuzz.cases=N} sets its length; a
 * failure names its seed and case.
 */
class BatchValidatorEquivalenceTest {
    private static final long SEED = Long.getLong("holdfast.fuzz.seed", System.nanoTime());
    private static final int CASES = Integer.getInteger("holdfast.fuzz.cases", 20_000);

    /** Placed in strings; replaced afterwards, byte for byte, by {@link #SPLICES}, so no length changes. */
    private static final byte[] MARKER = {7, 7, 7, 7};
    private static final String MARKER_STRING = "\u0007\u0007\u0007\u0007";
    private static final byte[][] SPLICES = {
            bytes(0xC0, 0x80, 0x41, 0x41),  // overlong NUL (modified UTF-8)
            bytes(0xC1, 0xBF, 0x41, 0x41),  // overlong
            bytes(0xED, 0xA0, 0x80, 0x41),  // a lone high surrogate, as CESU-8 writes it
            bytes(0xED, 0xBF, 0xBF, 0x41),  // a lone low surrogate
            bytes(0xFF, 0x41, 0x41, 0x41),
            bytes(0xFE, 0x41, 0x41, 0x41),
            bytes(0x80, 0x41, 0x41, 0x41),  // a stray continuation byte
            bytes(0x41, 0x41, 0x41, 0xE2),  // a sequence cut off (at the string's end if the marker is)
            bytes(0xE0, 0x80, 0x80, 0x41),  // overlong, three bytes
            bytes(0xF0, 0x80, 0x80, 0x80),  // overlong, four bytes
            bytes(0xF4, 0x90, 0x80, 0x80),  // above U+10FFFF
            bytes(0xF5, 0x80, 0x80, 0x80),
            bytes(0xF0, 0x9F, 0x98, 0x80),  // valid from here: U+1F600
            bytes(0xE2, 0x82, 0xAC, 0x41),  // U+20AC
            bytes(0xEF, 0xBF, 0xBF, 0x41),  // U+FFFF, a noncharacter but UTF-8
            bytes(0xED, 0x9F, 0xBF, 0x41),  // U+D7FF, just below the surrogates
            bytes(0xEE, 0x80, 0x80, 0x41),  // U+E000, just above
            bytes(0xF4, 0x8F, 0xBF, 0xBF),  // U+10FFFF
            bytes(0x41, 0x41, 0x41, 0x41),
    };
    private static final String[] WORDS = {"", "a", "agent-1", "nginx", "ebpf", "fallback", "k8s.pod", "é", "日本語",
            "\uD83D\uDE00", "ﬀ", "\u0000", "tab\there", "x".repeat(70), MARKER_STRING, "a" + MARKER_STRING + "b"};

    @Test
    void theWalkDecidesAsParseFromOnRandomAndDamagedBatches() throws IOException {
        Random r = new Random(SEED);
        int valid = 0;
        int measureDiffers = 0;
        Map<String, Integer> refusals = new TreeMap<>();
        for (int c = 0; c < CASES; c++) {
            byte[] bytes = mutate(r, splice(r, batch(r)));
            BatchValidator.Limits limits = new BatchValidator.Limits(r.nextInt(30) == 0 ? r.nextInt(400) : 1 << 20,
                    r.nextInt(8) == 0 ? r.nextInt(8) : 10_000, 64);
            EventSizeLimit size = r.nextInt(3) != 0 ? EventSizeLimit.NONE : new EventSizeLimit(20 + r.nextInt(300), null);
            String expected = r.nextInt(5) == 0 ? "agent-" + r.nextInt(3) : null;
            String where = "seed " + SEED + " (-Dholdfast.fuzz.seed=" + SEED + "), case " + c + ", bytes "
                    + HexFormat.of().formatHex(bytes);

            BatchValidator.Result walked = new BatchValidator(limits, size).validate(bytes, 42, expected);
            BatchValidator.Result parsed = new ParseFromValidator(limits, size, ParseFromValidator.SizeMeasure.WIRE)
                    .validate(bytes, 42, expected);
            assertSameResult(parsed, walked, where);

            if (walked instanceof BatchValidator.Valid) {
                valid++;
            } else {
                refusals.merge(kind(((BatchValidator.Invalid) walked).message()), 1, Integer::sum);
            }
            BatchValidator.Result before = new ParseFromValidator(limits, size,
                    ParseFromValidator.SizeMeasure.RESERIALISED).validate(bytes, 42, expected);
            if (!before.equals(walked)) {
                // the one deliberate change: only where an event's bytes are not as protobuf would write them
                measureDiffers++;
                assertTrue(someEventIsNotAsProtobufWritesIt(bytes), "differs from the re-serialised measure "
                        + "though every event is as protobuf writes it: " + where + "\nbefore " + before
                        + "\nnow    " + walked);
            }
        }
        System.out.printf("%d cases (seed %d): %d valid, %d decided otherwise by the re-serialised size; refused: %s%n",
                CASES, SEED, valid, measureDiffers, refusals);
        // the mix must reach both outcomes and every kind of refusal, or it proves little
        assertTrue(valid > CASES / 10, "valid: " + valid);
        for (String k : List.of("invalid UTF-N", "ended unexpectedly", "malformed varint", "invalid wire type",
                "end-group tag", "invalid tag (zero)", "too many levels of nesting", "negative size",
                "limits.maxEventBytes", "limits.maxEventsPerBatch", "limits.maxBatchBytes", "no events",
                "agent_id is empty", "does not match", "batch_seq must be")) {
            assertTrue(refusals.keySet().stream().anyMatch(m -> m.contains(k)), "never refused for " + k + ": "
                    + refusals);
        }
    }

    static void assertSameResult(BatchValidator.Result expected, BatchValidator.Result actual, String where) {
        if (expected instanceof BatchValidator.Valid e) {
            BatchValidator.Valid a = assertInstanceOf(BatchValidator.Valid.class, actual,
                    () -> "parseFrom accepts, the walk refuses: " + actual + "; " + where);
            assertEquals(e.header(), a.header(), () -> "header; " + where);
            assertTrue(e.bytes() == a.bytes(), () -> "bytes; " + where);
        } else {
            BatchValidator.Invalid e = (BatchValidator.Invalid) expected;
            BatchValidator.Invalid a = assertInstanceOf(BatchValidator.Invalid.class, actual,
                    () -> "parseFrom refuses (" + e.message() + "), the walk accepts; " + where);
            assertEquals(e.message(), a.message(), () -> "message; " + where);
            assertEquals(e.batchSeq(), a.batchSeq(), () -> "batch seq; " + where);
        }
    }

    /** A refusal's message without its numbers, for the tally. */
    private static String kind(String message) {
        return message.replaceAll("[0-9]+", "N").replaceAll("\"[^\"]*\"", "\"…\"");
    }

    /** Whether some event's size as sent differs from its size re-serialised (only asked of a batch that parses). */
    private static boolean someEventIsNotAsProtobufWritesIt(byte[] bytes) throws InvalidProtocolBufferException {
        EventBatch batch = EventBatch.parseFrom(bytes);
        List<byte[]> wire = ParseFromValidator.wireEvents(bytes);
        for (int i = 0; i < wire.size(); i++) {
            if (wire.get(i).length != batch.getEvents(i).getSerializedSize()) {
                return true;
            }
        }
        return false;
    }

    // ---- generation: valid batches from the builders, composed at the byte level ----

    /** A batch: its top-level fields in pieces, some repeated, some unknown, now and then out of order. */
    static byte[] batch(Random r) throws IOException {
        List<byte[]> fields = new ArrayList<>();
        int agents = r.nextInt(10) == 0 ? r.nextInt(3) : 1;
        for (int i = 0; i < agents; i++) {
            String agent = r.nextInt(3) == 0 ? word(r) : "agent-" + r.nextInt(3);
            fields.add(EventBatch.newBuilder().setAgentId(agent).build().toByteArray());
        }
        int seqs = r.nextInt(10) == 0 ? r.nextInt(3) : 1;
        for (int i = 0; i < seqs; i++) {
            long seq = switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> r.nextLong();
                default -> 1 + r.nextInt(1000);
            };
            fields.add(seq == 0 ? raw(o -> o.writeUInt64(2, 0)) // a default written out
                    : EventBatch.newBuilder().setBatchSeq(seq).build().toByteArray());
        }
        int events = r.nextInt(12) == 0 ? 0 : r.nextInt(5) == 0 ? r.nextInt(30) : 1 + r.nextInt(4);
        for (int i = 0; i < events; i++) {
            byte[] event = event(r);
            fields.add(raw(o -> o.writeByteArray(3, event)));
        }
        if (r.nextInt(6) == 0) {
            fields.add(unknowns(r).toByteArray());
        }
        if (r.nextInt(15) == 0) {
            fields.add(deepGroups(r));
        }
        if (r.nextInt(10) == 0) {
            Collections.shuffle(fields, r);
        }
        return concat(fields);
    }

    static byte[] event(Random r) throws IOException {
        Event.Builder e = Event.newBuilder();
        if (r.nextBoolean()) {
            e.setTimeUnixNano(r.nextLong());
        }
        switch (r.nextInt(6)) {
            case 0 -> { }
            case 1 -> e.setPriorityValue(4 + r.nextInt(100)); // a number the enum does not know
            default -> e.setPriorityValue(r.nextInt(4));
        }
        for (int i = r.nextInt(4); i > 0; i--) {
            e.putAttributes(word(r), word(r));
        }
        switch (r.nextInt(5)) {
            case 0 -> { }
            case 1 -> e.setLog(LogRecord.newBuilder().setBody(word(r)).setSeverityValue(r.nextInt(9)));
            case 2 -> e.setOpaque(ByteString.copyFrom(randomBytes(r, r.nextInt(40))));
            default -> e.setFile(fileEvent(r));
        }
        if (r.nextInt(8) == 0) {
            e.setUnknownFields(unknowns(r));
        }
        List<byte[]> parts = new ArrayList<>(List.of(e.build().toByteArray()));
        // concatenated encodings merge: fields repeated, a body merged or replaced by another
        while (r.nextInt(4) == 0) {
            parts.add(eventExtra(r));
        }
        return concat(parts);
    }

    private static byte[] eventExtra(Random r) throws IOException {
        return switch (r.nextInt(11)) {
            case 0 -> Event.newBuilder().setPriorityValue(r.nextInt(5)).build().toByteArray();
            case 1 -> raw(o -> o.writeEnum(2, 0)); // priority 0 written out
            case 2 -> raw(o -> { // priority as a padded or 10-byte varint: 2^32 + 1 reads as 1
                o.writeTag(2, WireFormat.WIRETYPE_VARINT);
                o.writeUInt64NoTag(r.nextBoolean() ? (1L << 32) + r.nextInt(4) : -r.nextInt(3));
            });
            case 3 -> raw(o -> o.writeByteArray(2, randomBytes(r, 3))); // priority with the wrong wire type
            case 4 -> raw(o -> o.writeUInt64(1, r.nextLong())); // time with the wrong wire type
            case 5 -> Event.newBuilder().setFile(fileEvent(r)).build().toByteArray(); // merges into a file body
            case 6 -> Event.newBuilder().setLog(LogRecord.newBuilder().setBody(word(r))).build().toByteArray();
            case 7 -> Event.newBuilder().setOpaque(ByteString.copyFrom(randomBytes(r, 5))).build().toByteArray();
            case 8 -> raw(o -> o.writeByteArray(10, fileExtra(r)));
            case 9 -> raw(o -> o.writeByteArray(11, LogRecord.newBuilder().setBody(word(r))
                    .setUnknownFields(unknowns(r)).build().toByteArray()));
            default -> raw(o -> o.writeByteArray(3, mapEntry(r)));
        };
    }

    /** A map entry as written by hand: key or value missing, repeated, of another wire type, unknown fields. */
    private static byte[] mapEntry(Random r) throws IOException {
        List<byte[]> parts = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            parts.add(switch (r.nextInt(7)) {
                case 0, 1 -> raw(o -> o.writeString(1, word(r)));
                case 2, 3 -> raw(o -> o.writeString(2, word(r)));
                case 4 -> raw(o -> o.writeUInt64(1 + r.nextInt(2), r.nextInt(100))); // key/value, wrong wire type
                case 5 -> deepGroups(r);
                default -> unknowns(r).toByteArray();
            });
        }
        return concat(parts);
    }

    static FileEvent fileEvent(Random r) {
        FileEvent.Builder f = FileEvent.newBuilder().setKindValue(r.nextInt(15))
                .setPath(r.nextInt(4) == 0 ? word(r) : "/var/lib/containers/storage/overlay/" + Long.toHexString(
                        r.nextLong()) + "/merged/usr/lib/x86_64-linux-gnu/libc.so." + r.nextInt(9))
                .setPid(r.nextInt(1 << 22)).setTid(r.nextInt(1 << 22)).setUid(r.nextInt(70000))
                .setComm(word(r)).setSource(r.nextBoolean() ? "ebpf" : word(r));
        if (r.nextBoolean()) {
            f.setNewPath(word(r)).setPpid(r.nextInt()).setGid(r.nextInt()).setCgroupId(r.nextLong())
                    .setInode(r.nextLong()).setDev(r.nextLong()).setMode(r.nextInt()).setFlags(r.nextInt())
                    .setReturnValue(r.nextLong()).setPathTruncated(r.nextBoolean());
        }
        if (r.nextInt(8) == 0) {
            f.setUnknownFields(unknowns(r));
        }
        return f.build();
    }

    private static byte[] fileExtra(Random r) throws IOException {
        List<byte[]> parts = new ArrayList<>(List.of(fileEvent(r).toByteArray()));
        switch (r.nextInt(4)) {
            case 0 -> parts.add(raw(o -> o.writeUInt64(2, 5))); // path with the wrong wire type
            case 1 -> parts.add(deepGroups(r));
            case 2 -> parts.add(raw(o -> o.writeString(9, word(r)))); // comm again
            default -> parts.add(raw(o -> o.writeUInt64(16, 2))); // a bool of 2
        }
        return concat(parts);
    }

    /** Unknown fields of every wire type, numbers known ones included (a known number, another wire type). */
    static UnknownFieldSet unknowns(Random r) {
        UnknownFieldSet.Builder b = UnknownFieldSet.newBuilder();
        for (int i = 1 + r.nextInt(3); i > 0; i--) {
            UnknownFieldSet.Field.Builder f = UnknownFieldSet.Field.newBuilder();
            switch (r.nextInt(5)) {
                case 0 -> f.addVarint(r.nextLong());
                case 1 -> f.addFixed32(r.nextInt());
                case 2 -> f.addFixed64(r.nextLong());
                case 3 -> f.addLengthDelimited(ByteString.copyFrom(randomBytes(r, r.nextInt(10)))); // any bytes
                default -> f.addGroup(r.nextInt(3) == 0 ? unknowns(r) : UnknownFieldSet.getDefaultInstance());
            }
            int number = r.nextInt(4) == 0 ? 1 + r.nextInt(20) : 20 + r.nextInt(1 << 20);
            b.mergeField(number, f.build());
        }
        return b.build();
    }

    /** Groups nested around the recursion limit (100), sometimes with a field in the middle. */
    static byte[] deepGroups(Random r) throws IOException {
        int depth = 90 + r.nextInt(16);
        int number = 4 + r.nextInt(30);
        boolean inner = r.nextBoolean();
        return raw(o -> {
            for (int i = 0; i < depth; i++) {
                o.writeTag(number, WireFormat.WIRETYPE_START_GROUP);
            }
            if (inner) {
                o.writeUInt64(1, 1);
            }
            for (int i = 0; i < depth; i++) {
                o.writeTag(number, WireFormat.WIRETYPE_END_GROUP);
            }
        });
    }

    private static String word(Random r) {
        if (r.nextInt(6) == 0) { // random code points, supplementary ones included
            StringBuilder s = new StringBuilder();
            for (int i = r.nextInt(6); i > 0; i--) {
                int cp = r.nextInt(3) == 0 ? 0x10000 + r.nextInt(0x100000) : r.nextInt(0xD800);
                s.appendCodePoint(cp);
            }
            return s.toString();
        }
        return WORDS[r.nextInt(WORDS.length)];
    }

    // ---- damage ----

    /** Replaces some of the markers (in strings, bytes fields and unknown fields alike) by one of the splices. */
    static byte[] splice(Random r, byte[] bytes) {
        for (int i = 0; i + MARKER.length <= bytes.length; i++) {
            if (bytes[i] == 7 && bytes[i + 1] == 7 && bytes[i + 2] == 7 && bytes[i + 3] == 7 && r.nextInt(8) == 0) {
                System.arraycopy(SPLICES[r.nextInt(SPLICES.length)], 0, bytes, i, MARKER.length);
                i += MARKER.length - 1;
            }
        }
        return bytes;
    }

    static byte[] mutate(Random r, byte[] bytes) {
        int damage = r.nextInt(5) < 2 ? 0 : 1 + r.nextInt(3);
        for (int d = 0; d < damage && bytes.length > 0; d++) {
            int at = r.nextInt(bytes.length);
            switch (r.nextInt(8)) {
                case 0 -> bytes[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> bytes = java.util.Arrays.copyOf(bytes, at);
                case 2 -> bytes = insert(bytes, at, randomBytes(r, 1 + r.nextInt(3)));
                case 3 -> bytes = delete(bytes, at, Math.min(bytes.length - at, 1 + r.nextInt(4)));
                case 4 -> bytes[at] = (byte) ((bytes[at] & ~7) | r.nextInt(8)); // another wire type, if a tag
                case 5 -> bytes[at] = (byte) r.nextInt(256);
                case 6 -> { // a piece of the batch again elsewhere
                    int len = Math.min(bytes.length - at, 1 + r.nextInt(20));
                    bytes = insert(bytes, r.nextInt(bytes.length), java.util.Arrays.copyOfRange(bytes, at, at + len));
                }
                default -> bytes = insert(bytes, at, groupTags(r)); // a group opened, closed or both
            }
        }
        return bytes;
    }

    private static byte[] groupTags(Random r) {
        int number = 1 + r.nextInt(20);
        return switch (r.nextInt(3)) {
            case 0 -> bytes(number << 3 | 3);
            case 1 -> bytes(number << 3 | 4);
            default -> bytes(number << 3 | 3, number << 3 | 4);
        };
    }

    // ---- bytes ----

    interface Writes {
        void to(CodedOutputStream o) throws IOException;
    }

    static byte[] raw(Writes w) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(buf);
        w.to(o);
        o.flush();
        return buf.toByteArray();
    }

    static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        parts.forEach(buf::writeBytes);
        return buf.toByteArray();
    }

    private static byte[] insert(byte[] bytes, int at, byte[] more) {
        byte[] out = new byte[bytes.length + more.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(more, 0, out, at, more.length);
        System.arraycopy(bytes, at, out, at + more.length, bytes.length - at);
        return out;
    }

    private static byte[] delete(byte[] bytes, int at, int len) {
        byte[] out = new byte[bytes.length - len];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(bytes, at + len, out, at, bytes.length - at - len);
        return out;
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        if (n >= 4 && r.nextInt(4) == 0) {
            System.arraycopy(MARKER, 0, b, r.nextInt(n - 3), 4);
        }
        return b;
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
