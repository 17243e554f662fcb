package dev.holdfast.wal;

import net.openhft.chronicle.bytes.Bytes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Binary layout of one WAL record (little endian):
 * <pre>
 *  0  int    crc32c over every byte after this field (header and payload)
 *  4  byte   format version (1)
 *  5  byte   priority code
 *  6  byte   record kind ({@link RecordKind}: 0 holdfast.v1 batch, 1-3 OTLP logs, traces, metrics request)
 *  7  byte   reserved (0)
 *  8  long   batch seq (unsigned 64-bit, as on the wire; 0 for OTLP requests)
 * 16  long   received at, epoch nanos
 * 24  int    event count
 * 28  short  agent id length N, then N bytes of UTF-8
 *     int    payload length P, then P bytes: the EventBatch (or OTLP request) exactly as received
 * </pre>
 * The kind byte was reserved (0) before OTLP, so every record written before reads as a holdfast.v1 batch.
 * The checksum covers the header too, so a garbled agent id or seq is caught, not only a garbled payload.
 */
public final class RecordCodec {
    public static final int VERSION = 1;
    static final int FIXED_HEADER = 30;
    public static final int MAX_AGENT_ID_BYTES = Short.MAX_VALUE;

    private RecordCodec() {
    }

    /** Encoded size of a record; what the disk guard charges for it. */
    public static int encodedSize(BatchHeader header, int payloadLength) {
        return FIXED_HEADER + header.agentId().getBytes(StandardCharsets.UTF_8).length + 4 + payloadLength;
    }

    /**
     * Checksum of a batch's content: CRC32C of the EventBatch bytes exactly as received (the record's payload). Kept
     * per seq so that a resend with other bytes is told apart from a true resend.
     */
    public static int contentChecksum(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload, 0, payload.length);
        return (int) crc.getValue();
    }

    /** Header bytes after the crc field, ready to be checksummed and written. */
    static ByteBuffer headerAfterCrc(BatchHeader header, int payloadLength) {
        byte[] agent = header.agentId().getBytes(StandardCharsets.UTF_8);
        if (agent.length > MAX_AGENT_ID_BYTES) {
            throw new IllegalArgumentException("agent id is " + agent.length + " bytes, max " + MAX_AGENT_ID_BYTES);
        }
        ByteBuffer b = ByteBuffer.allocate(FIXED_HEADER - 4 + agent.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) VERSION).put((byte) header.priority().code()).put((byte) header.kind().code()).put((byte) 0)
                .putLong(header.batchSeq()).putLong(header.receivedAtEpochNanos()).putInt(header.eventCount())
                .putShort((short) agent.length).put(agent).putInt(payloadLength);
        return b.flip();
    }

    /** Writes a record into Chronicle's (mapped) bytes. Returns the checksum written. */
    static int write(Bytes<?> out, BatchHeader header, byte[] payload) {
        ByteBuffer head = headerAfterCrc(header, payload.length);
        CRC32C crc = new CRC32C();
        crc.update(head.array(), 0, head.limit());
        crc.update(payload, 0, payload.length);
        int checksum = (int) crc.getValue();
        out.writeInt(checksum);
        out.write(head.array(), 0, head.limit());
        out.write(payload);
        return checksum;
    }

    /** Little-endian ints of a record's bytes by absolute offset, wherever they are (a file, a mapped buffer). */
    interface IntAt {
        int at(long offset) throws IOException;
    }

    /**
     * Whether a document of {@code length} bytes at {@code body} has a record's structure: version, priority, kind,
     * reserved byte, and agent id and payload lengths that add up to the document's length. A few reads, no copy and
     * no checksum: cheap enough to test a header before trusting its length (a garbled length must cost neither a
     * giant allocation nor a walk into the next record).
     */
    static boolean structureFits(IntAt in, long body, long length) throws IOException {
        if (length < FIXED_HEADER + 4) {
            return false;
        }
        int versionEtc = in.at(body + 4); // version, priority, kind, reserved byte
        int priority = (versionEtc >>> 8) & 0xff;
        int kind = (versionEtc >>> 16) & 0xff;
        if ((versionEtc & 0xff) != VERSION || (versionEtc >>> 24) != 0 || priority < 1 || priority > 3
                || kind > RecordKind.MAX_CODE) {
            return false;
        }
        int agentLen = (in.at(body + 26) >>> 16) & 0xffff; // the short at +28
        long payloadAt = body + FIXED_HEADER + agentLen;
        return payloadAt + 4 <= body + length && in.at(payloadAt) == length - FIXED_HEADER - agentLen - 4;
    }

    /**
     * Reads and validates one record from Chronicle's bytes (all remaining bytes belong to it). A document without a
     * record's structure is refused before anything is copied, as {@link CorruptRecordException#framingDamaged()}.
     */
    static WalRecord read(long index, String segment, Bytes<?> in) throws CorruptRecordException {
        long remaining = in.readRemaining();
        long start = in.readPosition();
        boolean fits;
        try {
            fits = structureFits(in::readInt, start, remaining);
        } catch (IOException | RuntimeException e) {
            fits = false;
        }
        if (!fits) {
            throw CorruptRecordException.framing("no record structure in this " + remaining
                    + "-byte document (its header may be damaged)");
        }
        byte[] all = new byte[(int) remaining];
        in.read(all);
        return decode(index, segment, all);
    }

    /** Offset of the agent id in a record (after the checksum). */
    static final int AGENT_OFFSET = FIXED_HEADER;

    /** The seq field of a record, trusted or not; 0 when the record is too short to have one. */
    static long storedSeq(byte[] all) {
        return all.length < 16 ? 0 : ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
    }

    /** The agent id bytes as the record's length field delimits them, trusted or not; null when out of bounds. */
    static byte[] storedAgent(byte[] all) {
        if (all.length < FIXED_HEADER + 4) {
            return null;
        }
        int agentLen = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getShort(28) & 0xffff;
        if (agentLen == 0 || AGENT_OFFSET + agentLen + 4 > all.length) {
            return null;
        }
        return java.util.Arrays.copyOfRange(all, AGENT_OFFSET, AGENT_OFFSET + agentLen);
    }

    /** The payload as the record's length fields delimit it, trusted or not; null when they do not agree. */
    static byte[] storedPayload(byte[] all) {
        byte[] agent = storedAgent(all);
        if (agent == null) {
            return null;
        }
        int at = AGENT_OFFSET + agent.length;
        int len = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
        return len == all.length - at - 4 ? java.util.Arrays.copyOfRange(all, at + 4, all.length) : null;
    }

    static WalRecord decode(long index, String segment, byte[] all) throws CorruptRecordException {
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int stored = b.getInt();
        CRC32C crc = new CRC32C();
        crc.update(all, 4, all.length - 4);
        int computed = (int) crc.getValue();
        if (stored != computed) {
            String message = String.format("checksum mismatch: stored %08x, computed %08x over %d bytes", stored,
                    computed, all.length - 4);
            throw new CorruptRecordException(message, all);
        }
        int version = b.get() & 0xff;
        if (version != VERSION) {
            throw new CorruptRecordException("unknown format version " + version + " (expected " + VERSION + ")");
        }
        int priorityCode = b.get();
        int kindCode = b.get() & 0xff;
        b.get();
        long seq = b.getLong();
        long receivedAt = b.getLong();
        int events = b.getInt();
        int agentLen = b.getShort() & 0xffff;
        if (agentLen > b.remaining() - 4) {
            throw new CorruptRecordException("agent id length " + agentLen + " exceeds the record");
        }
        String agent = new String(all, b.position(), agentLen, StandardCharsets.UTF_8);
        b.position(b.position() + agentLen);
        int payloadLen = b.getInt();
        if (payloadLen != b.remaining()) {
            throw new CorruptRecordException("payload length " + payloadLen + " does not match the "
                    + b.remaining() + " bytes that follow");
        }
        BatchPriority priority;
        RecordKind kind;
        try {
            priority = BatchPriority.fromCode(priorityCode);
            kind = RecordKind.fromCode(kindCode);
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordException(e.getMessage());
        }
        byte[] payload = new byte[payloadLen];
        b.get(payload);
        return new WalRecord(index, segment, new BatchHeader(agent, seq, events, priority, receivedAt, kind), stored,
                payload);
    }
}
