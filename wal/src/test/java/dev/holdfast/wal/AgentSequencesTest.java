package dev.holdfast.wal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

class AgentSequencesTest {
    static final long MAX_SIGNED = Long.MAX_VALUE;    // 2^63-1
    static final long TWO_TO_63 = Long.MIN_VALUE;     // 2^63 as an unsigned seq
    static final long MAX_UNSIGNED = -1L;             // 2^64-1

    @TempDir
    Path tmp;

    @Test
    void tracksContiguousPrefixAndOutOfOrderBatches() {
        AgentSequences s = new AgentSequences();
        assertEquals(new AgentSequences.Resume(0, List.of()), s.resume("a"));
        assertTrue(s.add("a", 1, 11));
        assertTrue(s.add("a", 2, 12));
        assertTrue(s.add("a", 4, 14)); // 3 was shed and will be resent
        assertTrue(s.add("a", 5, 15));
        assertFalse(s.add("a", 2, 12));
        assertFalse(s.add("a", 5, 99));
        assertFalse(s.contains("a", 3));
        assertEquals(new AgentSequences.Resume(2, List.of(4L, 5L)), s.resume("a"));
        assertTrue(s.add("a", 3, 13));
        assertEquals(new AgentSequences.Resume(5, List.of()), s.resume("a"));
        assertFalse(s.contains("b", 1));
        assertFalse(s.add("a", 0, 0), "0 is never a seq");
        assertFalse(s.contains("a", 0));
    }

    @Test
    void seqsAreUnsignedAtEveryBoundary() {
        AgentSequences s = new AgentSequences();
        for (long seq : new long[]{1, MAX_SIGNED, TWO_TO_63, MAX_UNSIGNED}) {
            assertFalse(s.contains("u", seq));
            assertEquals(AgentSequences.Held.NO, s.held("u", seq, 7));
            assertTrue(s.add("u", seq, 7), Long.toUnsignedString(seq));
            assertTrue(s.contains("u", seq));
            assertEquals(AgentSequences.Held.SAME_CONTENT, s.held("u", seq, 7));
            assertFalse(s.add("u", seq, 7));
        }
        for (long seq : new long[]{2, MAX_SIGNED - 1, TWO_TO_63 + 1, MAX_UNSIGNED - 1}) {
            assertFalse(s.contains("u", seq), "never held: " + Long.toUnsignedString(seq));
        }
        // 2^63-1 and 2^63 are neighbours in unsigned order: one range, not two
        assertEquals(List.of("1..1", "9223372036854775807..9223372036854775808",
                "18446744073709551615..18446744073709551615"), ranges(s, "u"));
        assertEquals(new AgentSequences.Resume(1, List.of(MAX_SIGNED, TWO_TO_63, MAX_UNSIGNED)), s.resume("u"));
        assertTrue(s.add("u", MAX_UNSIGNED - 1, 7));
        assertEquals(List.of("1..1", "9223372036854775807..9223372036854775808",
                "18446744073709551614..18446744073709551615"), ranges(s, "u"));
        // a claim of everything: through 2^64-1, nothing above it
        assertEquals(new AgentSequences.Resume(MAX_UNSIGNED, List.of()), s.resume("u", MAX_UNSIGNED));
        // a claim that ends just below a held range joins it
        assertEquals(new AgentSequences.Resume(TWO_TO_63, List.of(MAX_UNSIGNED - 1, MAX_UNSIGNED)),
                s.resume("u", MAX_SIGNED - 1));
    }

    @Test
    void anAgentThatFailedOverCostsOneRangeAndItsResumeListIsBounded() {
        AgentSequences s = new AgentSequences();
        for (long seq = 1001; seq <= 50_000; seq++) {
            s.add("f", seq, (int) seq);
        }
        assertEquals(List.of("1001..50000"), ranges(s, "f"));
        // without a claim: nothing from 1 on is held, and the list is capped but still names the highest seq
        AgentSequences.Resume alone = s.resume("f");
        assertEquals(0, alone.persistedThrough());
        assertEquals(AgentSequences.MAX_RESUME_ABOVE, alone.persistedAbove().size());
        assertEquals(1001L, alone.persistedAbove().get(0));
        assertEquals(1001L + AgentSequences.MAX_RESUME_ABOVE - 2,
                alone.persistedAbove().get(AgentSequences.MAX_RESUME_ABOVE - 2));
        assertEquals(50_000L, alone.persistedAbove().get(AgentSequences.MAX_RESUME_ABOVE - 1));
        // with the agent's claim that 1..1000 is durable elsewhere: one number
        assertEquals(new AgentSequences.Resume(50_000, List.of()), s.resume("f", 1000));
        assertEquals(new AgentSequences.Resume(50_000, List.of()), s.resume("f", 20_000));
        assertEquals(new AgentSequences.Resume(999, List.of(1001L, 1002L)), limited(s.resume("f", 999), 2));
    }

    @Test
    void aClaimShapesOneAnswerAndNeverCountsAsHeld() {
        AgentSequences s = new AgentSequences();
        s.add("a", 5001, 1); // the first batch this node sees: 1..5000 went to another node
        s.add("a", 5003, 3);
        assertEquals(new AgentSequences.Resume(5001, List.of(5003L)), s.resume("a", 5000));
        assertEquals(new AgentSequences.Resume(0, List.of(5001L, 5003L)), s.resume("a"), "the claim is not kept");
        assertFalse(s.contains("a", 17), "a batch below the claim is not held here: it is written if it arrives");
        assertEquals(AgentSequences.Held.NO, s.held("a", 17, 0));
        // a spoofed claim of everything: the answer says so, the state does not change
        assertEquals(new AgentSequences.Resume(MAX_SIGNED, List.of()), s.resume("a", MAX_SIGNED));
        assertEquals(new AgentSequences.Resume(MAX_UNSIGNED, List.of()), s.resume("a", MAX_UNSIGNED));
        assertFalse(s.contains("a", 5002));
        assertEquals(new AgentSequences.Resume(MAX_SIGNED, List.of()), s.resume("unknown", MAX_SIGNED));
        assertEquals(0, s.resume("unknown").persistedThrough());
    }

    @Test
    void theBoundForgetsTheLowestRangeAndNeverInventsAHeldSeq() {
        AgentSequences s = new AgentSequences();
        int ranges = AgentSequences.MAX_RANGES_PER_AGENT + 10;
        for (long i = 0; i < ranges; i++) {
            s.add("g", 2 * i + 1, 0); // 1, 3, 5, ...: every seq its own range
        }
        assertEquals(AgentSequences.MAX_RANGES_PER_AGENT, ranges(s, "g").size());
        for (long i = 0; i < ranges; i++) {
            long odd = 2 * i + 1;
            assertEquals(i >= 10, s.contains("g", odd), "seq " + odd);
            assertFalse(s.contains("g", odd + 1), "never sent, never held: " + (odd + 1));
        }
        // a forgotten seq sent again is written again (a duplicate at worst), and becomes held
        assertEquals(AgentSequences.Held.NO, s.held("g", 1, 0));
        AgentSequences.Resume r = s.resume("g");
        assertEquals(0, r.persistedThrough(), "the forgotten gap is not filled in");
        assertEquals(21L, r.persistedAbove().get(0));
    }

    @Test
    void theChecksumWindowTellsAResendFromAReusedSeq() {
        AgentSequences s = new AgentSequences();
        s.add("c", 7, 0x1234);
        assertEquals(AgentSequences.Held.SAME_CONTENT, s.held("c", 7, 0x1234));
        assertEquals(AgentSequences.Held.OTHER_CONTENT, s.held("c", 7, 0x4321));
        assertFalse(s.add("c", 7, 0x4321));
        assertEquals(AgentSequences.Held.SAME_CONTENT, s.held("c", 7, 0x1234), "the first content is kept");
        // the window holds the last SIZE seqs: 7 + SIZE takes 7's slot
        s.add("c", 7 + ContentWindow.SIZE, 0x5555);
        assertEquals(AgentSequences.Held.CONTENT_UNKNOWN, s.held("c", 7, 0x4321), "held, content no longer known");
        assertEquals(AgentSequences.Held.OTHER_CONTENT, s.held("c", 7 + ContentWindow.SIZE, 0x1234));
        s.add("c", MAX_UNSIGNED, 0x7777);
        assertEquals(AgentSequences.Held.OTHER_CONTENT, s.held("c", MAX_UNSIGNED, 0x7778));
        assertEquals(AgentSequences.Held.SAME_CONTENT, s.held("c", MAX_UNSIGNED, 0x7777));
        assertEquals(AgentSequences.Held.NO, s.held("c", 8, 0x1234));
    }

    /** A record as the WAL stores it (from the checksum on), with one byte of it changed afterwards. */
    private static byte[] damagedRecord(String agent, long seq, byte[] payload, int byteToFlip) {
        BatchHeader h = new BatchHeader(agent, seq, 1, BatchPriority.NORMAL, 1L);
        ByteBuffer head = RecordCodec.headerAfterCrc(h, payload.length);
        byte[] all = new byte[4 + head.limit() + payload.length];
        head.get(0, all, 4, head.limit());
        System.arraycopy(payload, 0, all, 4 + head.limit(), payload.length);
        all[byteToFlip] ^= 0x10;
        return all;
    }

    @Test
    void aDamagedRecordIsNoLongerHeldAndOnlyItsOwnSeqIsForgotten() {
        AgentSequences s = new AgentSequences();
        byte[][] payloads = new byte[8][];
        for (int seq = 1; seq <= 7; seq++) {
            payloads[seq] = ("batch " + seq).getBytes();
            s.add("agent-1", seq, RecordCodec.contentChecksum(payloads[seq]));
        }
        s.add("agent-2", 3, 42);
        // the payload rotted: its header still names (agent-1, 5)
        s.forgetDamaged(damagedRecord("agent-1", 5, payloads[5], 40));
        assertEquals(List.of(1L, 2L, 3L, 4L, 6L, 7L), held(s, "agent-1", 7));
        // a bit of the seq field rotted (6 reads as 22): the intact payload's checksum names the real seq
        s.forgetDamaged(damagedRecord("agent-1", 6, payloads[6], 8));
        assertEquals(List.of(1L, 2L, 3L, 4L, 7L), held(s, "agent-1", 7));
        // a byte of the agent id rotted: still agent-1's, and agent-2's seq 3 is untouched
        s.forgetDamaged(damagedRecord("agent-1", 2, payloads[2], 4 + 30 + 2));
        assertEquals(List.of(1L, 3L, 4L, 7L), held(s, "agent-1", 7));
        assertTrue(s.contains("agent-2", 3));
        // the agent id's length field rotted: the id still stands at its offset
        s.forgetDamaged(damagedRecord("agent-1", 7, payloads[7], 4 + 28));
        assertEquals(List.of(1L, 3L, 4L), held(s, "agent-1", 7));
        s.forgetDamaged(null); // a record too broken to be read at all changes nothing
        assertEquals(List.of(1L, 3L, 4L), held(s, "agent-1", 7));
    }

    @Test
    void aRecordWhoseWholeAgentIdRottedIsFoundByItsContent() {
        AgentSequences s = new AgentSequences();
        byte[][] payloads = new byte[4][];
        for (int seq = 1; seq <= 3; seq++) {
            payloads[seq] = ("batch " + seq).getBytes();
            s.add("agent-2", seq, RecordCodec.contentChecksum(payloads[seq]));
            s.add("agent-9", seq, RecordCodec.contentChecksum(("other " + seq).getBytes()));
        }
        // seven random bytes over the id "agent-2" and the payload length (CI case seed 8263178319509800555): the
        // id matches no agent, but the payload after an id of agent-2's length is agent-2's seq 2
        byte[] r = damagedRecord("agent-2", 2, payloads[2], 0);
        r[0] ^= 0x10; // undo the helper's flip
        for (int i = 30; i < 30 + 8; i++) {
            r[i] = (byte) (0x5A + i);
        }
        s.forgetDamaged(r);
        assertEquals(List.of(1L, 3L), held(s, "agent-2", 3));
        assertEquals(List.of(1L, 2L, 3L), held(s, "agent-9", 3), "another agent's seq 2 is kept: the content says whose");
        // id and payload both rotted: nothing says whose it was, so the stored seq is forgotten for every agent
        // (a duplicate write at worst, never a DUPLICATE answer for a batch that is gone)
        byte[] both = damagedRecord("agent-2", 3, payloads[3], 0);
        both[0] ^= 0x10;
        for (int i = 30; i < both.length; i++) {
            both[i] = (byte) (0x33 + i);
        }
        s.forgetDamaged(both);
        assertEquals(List.of(1L), held(s, "agent-2", 3));
        assertEquals(List.of(1L, 2L), held(s, "agent-9", 3));
    }

    private static List<Long> held(AgentSequences s, String agent, long upTo) {
        List<Long> out = new java.util.ArrayList<>();
        for (long seq = 1; seq <= upTo; seq++) {
            if (s.contains(agent, seq)) {
                out.add(seq);
            }
        }
        return out;
    }

    @Test
    void aCheckpointKeepsRangesAndChecksums() throws Exception {
        AgentSequences s = new AgentSequences();
        for (long seq = 1; seq <= 3000; seq++) {
            if (seq != 1500) {
                s.add("a", seq, (int) (seq * 31));
            }
        }
        s.add("b", TWO_TO_63, 99);
        s.add("b", MAX_UNSIGNED, 98);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            s.writeTo(out);
        }
        AgentSequences back = AgentSequences.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(ranges(s, "a"), ranges(back, "a"));
        assertEquals(ranges(s, "b"), ranges(back, "b"));
        assertEquals(s.resume("a", 0), back.resume("a", 0));
        assertEquals(AgentSequences.Held.SAME_CONTENT, back.held("a", 2999, 2999 * 31));
        assertEquals(AgentSequences.Held.OTHER_CONTENT, back.held("a", 2999, 1));
        assertEquals(AgentSequences.Held.CONTENT_UNKNOWN, back.held("a", 10, 1), "older than the window");
        assertEquals(AgentSequences.Held.NO, back.held("a", 1500, 1));
        assertEquals(AgentSequences.Held.OTHER_CONTENT, back.held("b", MAX_UNSIGNED, 99));
        assertEquals(AgentSequences.Held.SAME_CONTENT, back.held("b", TWO_TO_63, 99));

        SequenceSnapshots snapshots = new SequenceSnapshots(tmp);
        snapshots.save(s, 42);
        SequenceSnapshots.Loaded loaded = snapshots.load();
        assertEquals(42, loaded.coversThroughIndex());
        assertEquals(ranges(s, "a"), ranges(loaded.sequences(), "a"));
        assertEquals(AgentSequences.Held.OTHER_CONTENT, loaded.sequences().held("a", 2999, 1));
    }

    @Test
    void aFormatOneCheckpointIsIgnoredSoTheWalIsScannedInstead() throws Exception {
        // format 1: magic "HFSQ", covers, agents {id, signed through, above...}, crc32c
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(body)) {
            out.writeInt(0x48465351);
            out.writeLong(7);
            out.writeInt(1);
            out.writeUTF("spoofed");
            out.writeLong(Long.MAX_VALUE);
            out.writeInt(0);
        }
        byte[] b = body.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(b);
        Files.write(tmp.resolve(SequenceSnapshots.FILE), ByteBuffer.allocate(b.length + 4).put(b)
                .putInt((int) crc.getValue()).array());
        assertNull(new SequenceSnapshots(tmp).load());
    }

    private static List<String> ranges(AgentSequences s, String agent) {
        return s.rangesOf(agent).stream()
                .map(r -> Long.toUnsignedString(r[0]) + ".." + Long.toUnsignedString(r[1])).toList();
    }

    private static AgentSequences.Resume limited(AgentSequences.Resume r, int n) {
        return new AgentSequences.Resume(r.persistedThrough(), r.persistedAbove().subList(0, n));
    }
}
