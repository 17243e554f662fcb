package dev.holdfast.testkit;

import io.grpc.KnownLength;

import java.io.ByteArrayInputStream;

/**
 * A received message's stream as gRPC hands it to a marshaller: it knows its length ({@link KnownLength}), and says
 * it through {@link #available()}. This one says whatever length it is given, rightly or not, and counts the bulk
 * reads made of it, so a test can check both what a marshaller makes of a stream that lies and how it reads one that
 * does not.
 */
public final class ClaimedLengthStream extends ByteArrayInputStream implements KnownLength {
    private final int claimed;
    private int bulkReads;

    public ClaimedLengthStream(byte[] bytes, int claimed) {
        super(bytes);
        this.claimed = claimed;
    }

    /** The claimed length, however much has been read. */
    @Override
    public synchronized int available() {
        return claimed;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
        bulkReads++;
        return super.read(b, off, len);
    }

    public synchronized int bulkReads() {
        return bulkReads;
    }
}
