import dev.holdfast.wal.BatchHeader;
import dev.holdfast.wal.BatchPriority;
import dev.holdfast.wal.CommitListener;
import dev.holdfast.wal.Wal;
import dev.holdfast.wal.WalConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Start-up cost of a WAL, for bench/recovery.sh (run as a single source file against one checkout's wal classes, so
 * two checkouts can be timed on copies of the same WAL):
 *
 *   java RecoveryBench.java generate DIR RECORDS BYTES    # writes RECORDS records of BYTES payload bytes, closes
 *   java RecoveryBench.java open DIR [--no-checkpoint]    # prints "open_ms recovery_ms" of one Wal.open
 */
public class RecoveryBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (args[0].equals("generate")) {
            long records = Long.parseLong(args[2]);
            int bytes = Integer.parseInt(args[3]);
            byte[] payload = new byte[bytes];
            try (Wal wal = Wal.open(WalConfig.defaults(dir, false), CommitListener.NONE)) {
                List<CompletableFuture<?>> window = new ArrayList<>();
                for (long i = 0; i < records; i++) {
                    payload[0] = (byte) i;
                    long seq = i / 8 + 1; // 8 agents, each with contiguous seqs
                    window.add(wal.append(new BatchHeader("bench-" + (i % 8), seq, 1, BatchPriority.NORMAL, i),
                            payload.clone()));
                    if (window.size() == 4096) {
                        for (CompletableFuture<?> f : window) f.get();
                        window.clear();
                    }
                }
                for (CompletableFuture<?> f : window) f.get();
            }
            return;
        }
        if (args.length > 2 && args[2].equals("--no-checkpoint")) {
            Files.deleteIfExists(dir.resolve("agent-sequences.snapshot"));
        }
        long t0 = System.nanoTime();
        Wal wal = Wal.open(WalConfig.defaults(dir, false), CommitListener.NONE);
        long openMs = (System.nanoTime() - t0) / 1_000_000;
        long recoveryMs = wal.recovery().millis();
        wal.close();
        System.out.println(openMs + " " + recoveryMs);
    }
}
