package dev.holdfast.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.holdfast.forwarder.EventRecords;
import dev.holdfast.forwarder.OtlpRecords;
import dev.holdfast.otlp.OtlpJson;
import dev.holdfast.forwarder.OtlpTopics;
import dev.holdfast.forwarder.RecordMapper;
import dev.holdfast.forwarder.ForwardLimit;
import dev.holdfast.forwarder.Producers;
import dev.holdfast.forwarder.SendErrors;
import dev.holdfast.forwarder.WalReplay;
import dev.holdfast.forwarder.deadletter.DeadLetter;
import dev.holdfast.forwarder.deadletter.DeadLetterFile;
import dev.holdfast.forwarder.deadletter.DeadLetterReplay;
import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.Event;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.errors.AuthenticationException;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.wal.UnusableDirectoryException;
import dev.holdfast.wal.WalDirectory;
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
        description = "Inspect a write-ahead log: list segments, verify checksums, dump records. A --data directory "
                + "that cannot be read or holds no WAL: exit 4 and one line naming it and why.",
        subcommands = {WalCommand.Ls.class, WalCommand.Verify.class, WalCommand.Dump.class, WalCommand.Replay.class,
                WalCommand.DeadLetterList.class})
public final class WalCommand {

    static final class DataDir {
        @Option(names = "--data", required = true,
                description = "Intake data directory (its wal/ is used) or a WAL directory itself")
        Path data;

        /**
         * The WAL directory {@code --data} names, checked before it is read: a directory the tools cannot read, or
         * one with nothing of Chronicle's in it, is reported in one line (exit 4).
         */
        Path walDir() throws IOException {
            WalDirectory.checkReadable(data);
            Path nested = data.resolve("wal");
            Path dir = Files.isDirectory(nested) ? nested : data;
            WalDirectory.checkReadable(dir);
            if (!holdsChronicleFiles(dir)) {
                throw new UnusableDirectoryException(dir.toAbsolutePath().normalize(),
                        "not a WAL (no *.cq4 segments or metadata here" + (dir.equals(data) ? " or in wal/" : "") + ")");
            }
            return dir;
        }

        /** Segments (*.cq4) or Chronicle's metadata (*.cq4t): whether they are intact is for the reader to say. */
        private static boolean holdsChronicleFiles(Path dir) throws IOException {
            try (var files = Files.list(dir)) {
                return files.map(p -> p.getFileName().toString()).anyMatch(n -> n.endsWith(".cq4") || n.endsWith(".cq4t"));
            }
        }
    }

    /** One end of a range: a WAL index or a receive time. */
    record Bound(Long index, Instant time) {
    }

    /** Parses --from/--to at command-line parsing time, so a bad value is an ordinary usage error (exit 2). */
    static final class BoundConverter implements picocli.CommandLine.ITypeConverter<Bound> {
        @Override
        public Bound convert(String s) {
            try {
                if (s.contains("T") && s.contains("-")) {
                    return new Bound(null, Instant.parse(s));
                }
                return new Bound(s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s), null);
            } catch (RuntimeException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + s
                        + "' is neither a WAL index (decimal or 0x hex) nor an ISO-8601 time like 2026-11-22T07:00:00Z");
            }
        }
    }

    /** --from / --to: a WAL index (decimal or 0x hex) or an ISO-8601 instant (receive time). */
    static final class RangeOptions {
        @Option(names = "--from", paramLabel = "POS|TIME", converter = BoundConverter.class,
                description = "First record: WAL index or ISO-8601 time")
        Bound from;
        @Option(names = "--to", paramLabel = "POS|TIME", converter = BoundConverter.class,
                description = "Last record: WAL index or ISO-8601 time")
        Bound to;

        WalReplay.Range range() {
            return new WalReplay.Range(from == null ? null : from.index(), to == null ? null : to.index(),
                    from == null ? null : from.time(), to == null ? null : to.time());
        }
    }

    /** The dead-letter file of an intake data directory (or of a forwarder directory, or the file itself). */
    static Path deadLetterFile(Path data) throws IOException {
        WalDirectory.checkReadable(Files.isRegularFile(data) ? data.toAbsolutePath().getParent() : data);
        if (Files.isRegularFile(data)) {
            return data;
        }
        for (Path candidate : java.util.List.of(data.resolve("forwarder").resolve("dead-letters"),
                data.resolve("dead-letters"), data)) {
            Path f = candidate.resolve(DeadLetterFile.NAME);
            if (Files.exists(f)) {
                return f;
            }
        }
        return data.resolve("forwarder").resolve("dead-letters").resolve(DeadLetterFile.NAME); // none yet: empty
    }

    @Command(name = "dead-letters", mixinStandardHelpOptions = true,
            description = "List the events Kafka refused for good (too large, invalid, not authorised ...): when, "
                    + "why, and whether they are in the dead-letter topic or only in the local file. Exit 0: read "
                    + "(even if empty); 1: damaged entries were skipped; 4: --data cannot be used.")
    static final class DeadLetterList implements Callable<Integer> {
        @Option(names = "--data", required = true,
                description = "Intake data directory (its forwarder/dead-letters/ is used), or the dead-letter file")
        Path data;
        @Option(names = "--json", description = "One JSON line per dead letter instead of a table")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Path file = deadLetterFile(data);
            DeadLetterFile.Contents c = DeadLetterFile.read(file);
            ObjectMapper mapper = new ObjectMapper();
            if (!json) {
                System.out.printf("%-24s %-40s %-18s %10s  %-8s %s%n", "TIME", "EVENT_ID", "REASON", "BYTES",
                        "WHERE", "ERROR");
            }
            for (DeadLetter d : c.entries()) {
                String when = Instant.ofEpochMilli(d.atMillis()).toString();
                if (json) {
                    ObjectNode line = mapper.createObjectNode();
                    line.put("time", when).put("event_id", d.eventId()).put("topic", d.topic())
                            .put("reason", d.reason()).put("bytes", d.value().length)
                            .put("wal_index", d.walIndex()).put("destination", d.destination())
                            .put("error", d.error());
                    System.out.println(line);
                } else {
                    System.out.printf("%-24s %-40s %-18s %10d  %-8s %s%n", when, d.eventId(), d.reason(),
                            d.value().length, d.onlyInFile() ? "file" : "topic", d.error());
                }
            }
            System.err.printf("%d dead letters in %s (%d only in this file)%s%n", c.entries().size(), file,
                    c.entries().stream().filter(DeadLetter::onlyInFile).count(),
                    c.damaged() == 0 ? "" : "; " + c.damaged() + " damaged places skipped: " + c.damage().stream()
                            .map(DeadLetterFile.Damage::toString).collect(java.util.stream.Collectors.joining(", ")));
            return c.damaged() == 0 ? 0 : 1;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Re-send a range of a WAL to Kafka (same event ids as forwarded records), with progress; "
                    + "with --dead-letters, re-send the dead letters instead (after fixing why Kafka refused them).")
    static final class Replay implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Option(names = "--dead-letters", description = "Re-send the dead letters of --data (to --topic if given, "
                + "else each to the topic it was meant for) instead of the WAL")
        boolean deadLetters;
        @picocli.CommandLine.Mixin
        RangeOptions range = new RangeOptions();
        @Option(names = "--topic", description = "Default: holdfast.events (with --dead-letters: each one's own topic)")
        String topic;
        @Option(names = "--bootstrap", description = "Default: the --config file's forwarder.kafka (a host:port list),"
                + " else 127.0.0.1:9092")
        String bootstrap;
        @Option(names = "--config", description = "An intake YAML file: its forwarder section gives the bootstrap"
                + " servers, the topic and how to connect (forwarder.security: TLS, SASL; passwords from their file"
                + " or environment variable); --bootstrap and --topic override it")
        Path config;
        @Option(names = "--node", defaultValue = "replay", description = "intake_node header value. Default: ${DEFAULT-VALUE}")
        String node;
        @Option(names = "--dry-run", description = "Count what would be sent; send nothing")
        boolean dryRun;

        @Override
        public Integer call() throws IOException {
            if (deadLetters) {
                if (range.from != null || range.to != null) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--from/--to select WAL records; with --dead-letters every dead letter is sent");
                }
                return replayDeadLetters();
            }
            Connection kafka = connection();
            String bootstrap = kafka.bootstrap();
            String topic = this.topic != null ? this.topic : kafka.topic();
            WalReplay.Range r = range.range();
            try (WalInspector wal = WalInspector.open(dir.walDir());
                 KafkaProducer<byte[], byte[]> producer = dryRun ? null
                         : Producers.create(bootstrap, "holdfast-replay", java.util.Map.of(), kafka.security())) {
                WalReplay.Result result;
                // OTLP requests go to their signal's topic (--config's otlp.topics), --topic is the events'
                try (ProgressBar bar = ProgressBar.onStderr(dryRun ? "counting" : "replaying")) {
                    result = WalReplay.run(wal, r, RecordMapper.of(new EventRecords(topic, node),
                                    new OtlpRecords(kafka.otlp(), node)), producer, bar);
                } catch (IOException e) {
                    kafka.explainAuthenticationFailure(e);
                    throw e;
                }
                System.out.printf("%s %,d records, %,d events, %,d bytes in %.1f s (%,.0f events/s); %d corrupt records skipped%n",
                        dryRun ? "would replay" : "replayed to " + bootstrap + " topic " + topic, result.records(),
                        result.events(), result.bytes(), result.seconds(), result.events() / Math.max(1e-9, result.seconds()),
                        result.corrupt());
                return 0;
            }
        }

        /**
         * The same connection settings as the intake's forwarder when {@code --config} names its file (read and
         * validated like the intake does: an invalid file is exit 2, each problem in one line).
         */
        Connection connection() {
            if (config == null) {
                return new Connection(bootstrap != null ? bootstrap : "127.0.0.1:9092", "holdfast.events",
                        KafkaClientSecurity.NONE, OtlpTopics.DEFAULTS);
            }
            IntakeConfig intake = IntakeConfig.load(config);
            IntakeConfig.Forwarding f = intake.forwarder();
            IntakeConfig.Otlp o = intake.otlp();
            String fromFile = f.kafka().equals("embedded") || f.kafka().equals("none") ? "127.0.0.1:9092" : f.kafka();
            return new Connection(bootstrap != null ? bootstrap : fromFile, f.topic(),
                    f.security().resolve("forwarder.security", System::getenv),
                    OtlpTopics.of(o.topics().logs(), o.topics().spans(), o.topics().metrics(), o.encoding()));
        }

        private Integer replayDeadLetters() throws IOException {
            Path file = deadLetterFile(dir.data);
            DeadLetterFile.Contents c = DeadLetterFile.read(file);
            if (dryRun) {
                System.out.printf("would replay %d dead letters from %s%n", c.entries().size(), file);
                return 0;
            }
            Connection kafka = connection();
            String bootstrap = kafka.bootstrap();
            try (KafkaProducer<byte[], byte[]> producer = Producers.create(bootstrap, "holdfast-replay",
                    java.util.Map.of("max.request.size", Integer.toString(maxRequestSize(c.entries()))),
                    kafka.security())) {
                DeadLetterReplay.Result result = DeadLetterReplay.run(c.entries(), topic, producer);
                System.out.printf("replayed %d of %d dead letters from %s to %s%s%n", result.sent(),
                        c.entries().size(), file, bootstrap, result.failed() == 0 ? ""
                                : "; " + result.failed() + " refused again, first: " + result.firstError());
                return result.failed() == 0 ? 0 : 1;
            }
        }
    }

    /** Where and how replay connects: bootstrap, default topic, and TLS/SASL with the secrets already read. */
    record Connection(String bootstrap, String topic, KafkaClientSecurity security, OtlpTopics otlp) {
        /** Throws an authentication failure (wrong password, refused certificate) as one line naming whom. */
        void explainAuthenticationFailure(Exception e) {
            AuthenticationException auth = SendErrors.authentication(e);
            if (auth != null) {
                throw new OperatorError(ExitCodes.FAILED, "Kafka authentication failed at " + bootstrap + " ("
                        + security.who() + "): " + SendErrors.describe(auth)
                        + "; check forwarder.security", e);
            }
        }
    }

    /**
     * Large enough for the largest dead letter: letters refused as too large are sent again once the topic takes
     * them, and the producer's default (1 MiB) must not refuse them a second time; the topic still decides.
     */
    static int maxRequestSize(java.util.List<DeadLetter> letters) {
        long largest = 0;
        for (DeadLetter d : letters) {
            long bytes = (d.key() == null ? 0 : d.key().length) + (d.value() == null ? 0 : d.value().length);
            for (DeadLetter.Header h : d.headers()) {
                bytes += h.key().length() * 4L + (h.value() == null ? 0 : h.value().length) + 16;
            }
            largest = Math.max(largest, bytes);
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(ForwardLimit.DEFAULT_MAX_REQUEST_SIZE, largest + 64 * 1024));
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List segments.")
    static final class Ls implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();

        @Override
        public Integer call() throws IOException {
            try (WalInspector wal = WalInspector.open(dir.walDir())) {
                System.out.printf("%-24s %10s %12s %14s %14s  %s%n", "SEGMENT", "CYCLE", "RECORDS", "USED_BYTES",
                        "FIRST_INDEX", "PROBLEM");
                boolean problems = false;
                for (WalInspector.Listing l : wal.list()) {
                    dev.holdfast.wal.WalSegment s = l.segment();
                    problems |= l.problem() != null;
                    System.out.printf("%-24s %10d %12d %14d %14d  %s%n", s.file(), s.cycle(), s.records(), s.usedBytes(),
                            s.firstIndex(), l.problem() == null ? "-" : l.problem());
                }
                return problems ? 1 : 0;
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every record's checksum and structure. Exit 0: every record verified; 1: damage "
                    + "found (corrupt records are named); 4: --data cannot be used.")
    static final class Verify implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();

        @Override
        public Integer call() throws IOException {
            try (WalInspector wal = WalInspector.open(dir.walDir())) {
                WalInspector.Verification v;
                try (ProgressBar bar = ProgressBar.onStderr("verifying")) {
                    v = wal.verify(bar);
                }
                for (WalReader.Corrupt c : v.corrupt()) {
                    System.out.printf("CORRUPT segment=%s byte=%d index=%d (0x%x) reason=%s%n", c.segment(),
                            c.position(), c.index(), c.index(), c.reason());
                }
                for (String f : v.unreadableFiles()) {
                    System.out.printf("UNREADABLE %s%n", f);
                }
                System.out.printf("segments: %d%nrecords verified: %d%nvalid events: %d%npayload bytes: %d%n"
                                + "records damaged: %d%nheaders damaged (record intact): %d%n"
                                + "byte ranges skipped: %d (%d bytes)%nfiles unreadable: %d%ndamaged places: %d%n",
                        v.segments(), v.validRecords(), v.validEvents(), v.payloadBytes(), v.damagedRecords(),
                        v.damagedHeaders(), v.skippedRanges(), v.skippedBytes(), v.unreadableFiles().size(),
                        v.corrupt().size());
                return v.ok() ? 0 : 1;
            }
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "One JSON line per record (index, agent_id, batch_seq, events, priority, received_at ...).")
    static final class Dump implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DataDir dir = new DataDir();
        @Option(names = "--events", description = "Expand each record's events (an OTLP request: as OTLP/JSON)")
        boolean events;
        @picocli.CommandLine.Mixin
        RangeOptions range = new RangeOptions();

        @Override
        public Integer call() throws IOException {
            ObjectMapper json = new ObjectMapper();
            JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
            // buffered: System.out flushes at every line, and a dump is millions of lines
            PrintStream out = new PrintStream(new java.io.BufferedOutputStream(System.out, 1 << 16), false,
                    java.nio.charset.StandardCharsets.UTF_8);
            int[] corrupt = {0};
            try (WalInspector wal = WalInspector.open(dir.walDir());
                 ProgressBar bar = ProgressBar.onStderrBesideRedirectedOutput("dumping")) {
                WalReplay.Range selected = range.range();
                wal.forEach(selected.fromIndex(), selected.toIndex(), entry -> {
                    if (entry instanceof WalReader.Valid v && !selected.includes(v.record())) {
                        return;
                    }
                    ObjectNode line = json.createObjectNode();
                    line.put("index", entry.index());
                    if (entry instanceof WalReader.Corrupt c) {
                        corrupt[0]++;
                        line.put("segment", c.segment()).put("position", c.position()).put("corrupt", c.reason());
                    } else {
                        WalRecord r = ((WalReader.Valid) entry).record();
                        line.put("segment", r.segment())
                                .put("kind", r.header().kind().name().toLowerCase(java.util.Locale.ROOT))
                                .put("agent_id", r.header().agentId())
                                .put("batch_seq", new java.math.BigInteger(Long.toUnsignedString(r.header().batchSeq())))
                                .put("events", r.header().eventCount())
                                .put("priority", r.header().priority().name())
                                .put("received_at", Instant.ofEpochSecond(0, r.header().receivedAtEpochNanos()).toString())
                                .put("bytes", r.payload().length)
                                .put("crc32c", String.format("%08x", r.checksum()));
                        if (events && r.header().kind().sequenced()) {
                            var arr = line.putArray("event_list");
                            try {
                                for (Event e : EventBatch.parseFrom(r.payload()).getEventsList()) {
                                    arr.addRawValue(new com.fasterxml.jackson.databind.util.RawValue(printer.print(e)));
                                }
                            } catch (InvalidProtocolBufferException ex) {
                                line.put("events_error", ex.getMessage());
                            }
                        } else if (events) {
                            // an OTLP request: its OTLP/JSON, as a Collector would print it
                            try {
                                line.putRawValue("otlp", new com.fasterxml.jackson.databind.util.RawValue(new String(
                                        OtlpJson.print(otlpSignal(r.header().kind()).parseRequest(r.payload())),
                                        java.nio.charset.StandardCharsets.UTF_8)));
                            } catch (InvalidProtocolBufferException ex) {
                                line.put("events_error", ex.getMessage());
                            }
                        }
                    }
                    out.println(line.toString());
                }, bar);
            }
            out.flush();
            return corrupt[0] == 0 ? 0 : 1;
        }
    }

    static dev.holdfast.otlp.OtlpSignal otlpSignal(dev.holdfast.wal.RecordKind kind) {
        return switch (kind) {
            case OTLP_LOGS -> dev.holdfast.otlp.OtlpSignal.LOGS;
            case OTLP_TRACES -> dev.holdfast.otlp.OtlpSignal.TRACES;
            case OTLP_METRICS -> dev.holdfast.otlp.OtlpSignal.METRICS;
            case EVENTS -> throw new IllegalArgumentException("not an OTLP record");
        };
    }
}
