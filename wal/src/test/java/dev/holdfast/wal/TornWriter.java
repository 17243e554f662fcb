package dev.holdfast.wal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.file.Path;

/** Child process for the torn-write test: appends records, then dies in the middle of the next one. */
public final class TornWriter {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int records = Integer.parseInt(args[1]);
        WalConfig config = WalConfig.defaults(dir, true);
        try (Wal wal = Wal.open(config, CommitListener.NONE)) {
            for (int i = 1; i <= records; i++) {
                wal.append(WalTestSupport.header("torn", i, BatchPriority.NORMAL),
                        WalTestSupport.payload("torn", i, 10_000)).get();
            }
        }
        SingleChronicleQueue q = ChronicleQueues.openForWriting(config);
        ExcerptAppender appender = q.createAppender();
        DocumentContext dc = appender.writingDocument();
        dc.wire().bytes().write(new byte[5_000]);
        Runtime.getRuntime().halt(42); // no close, no shutdown hooks: the header stays locked and incomplete
    }
}
