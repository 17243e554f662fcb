package dev.holdfast.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.holdfast.protocol.v1.Event;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;

/** Operator tools for a WAL directory; read-only, safe next to a running intake. */
@Command(name = "wal", mixinStandardHelpOptions = true,
        description = "Inspect a write-ahead log: list segments, verify checksums, dump records.",
        subcommands = {WalCommand.Ls.class, WalCommand.Verify.class, WalCommand.Dump.class})
public final class WalCommand {

    static final class DataDir {
        @Option(names = "--data", required = true,
                description = "Intake data directory (its wal/ is used) or a WAL directory itself")
        Path data;

        Path walDir() {
            Path nested = data.resolve("wal");
            return Files.isDirectory(nested) ? nested : data;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List segments.")
    static final class Ls implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();

        @Override
        public Integer call() throws IOException {
            try (WalInspector wal = WalInspector.open(dir.walDir())) {
                System.out.printf("%-24s %10s %12s %14s %14s%n", "SEGMENT", "CYCLE", "RECORDS", "USED_BYTES", "FIRST_INDEX");
                for (dev.holdfast.wal.WalSegment s : wal.segments()) {
                    System.out.printf("%-24s %10d %12d %14d %14d%n", s.file(), s.cycle(), s.records(), s.usedBytes(),
                            s.firstIndex());
                }
            }
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every record's checksum and structure. Exit 1 if any record is corrupt.")
    static final class Verify implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();

        @Override
        public Integer call() throws IOException {
            try (WalInspector wal = WalInspector.open(dir.walDir())) {
                WalInspector.Verification v = wal.verify();
                for (WalReader.Corrupt c : v.corrupt()) {
                    System.out.printf("CORRUPT segment=%s index=%d (0x%x) reason=%s%n", c.segment(), c.index(),
                            c.index(), c.reason());
                }
                System.out.printf("valid records: %d%nvalid events: %d%npayload bytes: %d%ncorrupt records: %d%n",
                        v.validRecords(), v.validEvents(), v.payloadBytes(), v.corrupt().size());
                return v.ok() ? 0 : 1;
            }
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "One JSON line per record (index, agent_id, batch_seq, events, priority, received_at ...).")
    static final class Dump implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();
        @Option(names = "--events", description = "Expand each record's events")
        boolean events;
        @Option(names = "--from", description = "First index (inclusive)")
        Long from;
        @Option(names = "--to", description = "Last index (inclusive)")
        Long to;

        @Override
        public Integer call() throws IOException {
            ObjectMapper json = new ObjectMapper();
            JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
            PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false);
            int[] corrupt = {0};
            try (WalInspector wal = WalInspector.open(dir.walDir())) {
                wal.forEach(from, to, entry -> {
                    ObjectNode line = json.createObjectNode();
                    line.put("index", entry.index());
                    if (entry instanceof WalReader.Corrupt c) {
                        corrupt[0]++;
                        line.put("segment", c.segment()).put("corrupt", c.reason());
                    } else {
                        WalRecord r = ((WalReader.Valid) entry).record();
                        line.put("segment", r.segment())
                                .put("agent_id", r.header().agentId())
                                .put("batch_seq", r.header().batchSeq())
                                .put("events", r.header().eventCount())
                                .put("priority", r.header().priority().name())
                                .put("received_at", Instant.ofEpochSecond(0, r.header().receivedAtEpochNanos()).toString())
                                .put("bytes", r.payload().length)
                                .put("crc32c", String.format("%08x", r.checksum()));
                        if (events) {
                            var arr = line.putArray("event_list");
                            try {
                                for (Event e : EventBatch.parseFrom(r.payload()).getEventsList()) {
                                    arr.addRawValue(new com.fasterxml.jackson.databind.util.RawValue(printer.print(e)));
                                }
                            } catch (InvalidProtocolBufferException ex) {
                                line.put("events_error", ex.getMessage());
                            }
                        }
                    }
                    out.println(line.toString());
                });
            }
            out.flush();
            return corrupt[0] == 0 ? 0 : 1;
        }
    }
}
