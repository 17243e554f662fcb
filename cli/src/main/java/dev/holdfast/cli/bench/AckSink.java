package dev.holdfast.cli.bench;

import java.io.Closeable;

/** Receives every acknowledged batch; the bench's record of what the intake has promised to keep. */
interface AckSink extends Closeable {

    void acknowledged(String agentId, long batchSeq);

    @Override
    void close();

    static AckSink none() {
        return new AckSink() {
            @Override
            public void acknowledged(String agentId, long batchSeq) {
            }

            @Override
            public void close() {
            }
        };
    }
}
