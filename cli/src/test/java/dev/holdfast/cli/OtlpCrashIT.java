package dev.holdfast.cli;

import dev.holdfast.testkit.FreePorts;
import dev.holdfast.intake.IntakeServer;
import dev.holdfast.wal.RecordKind;
import dev.holdfast.wal.WalInspector;
import dev.holdfast.wal.WalReader;
import dev.holdfast.wal.WalRecord;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.resources.Resource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The durability claim for OTLP, with the real OpenTelemetry SDK as the sender: its OTLP log exporters (gRPC, then
 * HTTP/protobuf), one per thread, export batches of 100 log records from 4 threads as fast as they are answered, while
 * the intake (its own JVM, `holdfast intake`) is SIGKILLed and restarted on the same ports about a second later, 4
 * times. The SDK's default retry policy (5 attempts, backoff from 1 s) carries exports across a restart. Afterwards the
 * WAL must hold every log record of every export the SDK reported successful (each record has a unique body). An
 * export the intake wrote but could not answer before it died is sent again by the SDK and may be in the WAL twice:
 * allowed (OTLP has no sequence to drop it by), counted and printed. The report is written to
 * target/otlp-crash-report-{grpc,http}.txt.
 */
class OtlpCrashIT {
    private static final int KILLS = Integer.getInteger("holdfast.otlpcrash.kills", 4);
    private static final int THREADS = Integer.getInteger("holdfast.otlpcrash.threads", 4);
    private static final int BATCH = 100;
    /** Each thread exports at most this often (0: as fast as the intake answers). */
    private static final long EXPORT_PERIOD_MS = Long.getLong("holdfast.otlpcrash.periodMs", 0);

    @TempDir
    Path tmp;

    /** One export call of one thread: which batch, when it started and ended, and what the SDK said. */
    private record Export(int thread, int batch, long startNanos, long endNanos, boolean success, String failure) {
        String id() {
            return "t" + thread + "-b" + batch;
        }
    }

    /** From the SIGKILL until the restarted intake answered /readyz. */
    private record Outage(long killNanos, long readyNanos) {
    }

    @ParameterizedTest(name = "OTLP/{0}")
    @ValueSource(strings = {"grpc", "http"})
    void everyExportTheSdkReportedSuccessfulSurvivesSigkill(String transport) throws Exception {
        boolean http = transport.equals("http");
        long seed = Long.getLong("holdfast.crash.seed", System.nanoTime());
        System.out.println("OTLP/" + transport + " crash test seed: " + seed + " (rerun with -Dholdfast.crash.seed=" + seed + ")");
        Random random = new Random(seed);
        Path data = tmp.resolve("data");
        Path intakeLog = tmp.resolve("intake.log");
        int grpcPort = FreePorts.next();
        int httpPort = FreePorts.next();
        int otlpHttpPort = http ? FreePorts.next() : 0;
        String[] intakeArgs = {"intake", "--data", data.toString(), "--grpc-port", Integer.toString(grpcPort),
                "--http-port", Integer.toString(httpPort), "--otlp-http-port", Integer.toString(otlpHttpPort),
                "--durability", "fsync", "--kafka", "none"};

        ConcurrentLinkedQueue<Export> exports = new ConcurrentLinkedQueue<>();
        List<Outage> outages = new ArrayList<>();
        List<Long> restartMillis = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> load = new ArrayList<>();
        List<Throwable> loadErrors = java.util.Collections.synchronizedList(new ArrayList<>());
        HoldfastProcess intake = HoldfastProcess.start(intakeLog, intakeArgs);
        // An exporter per thread, as each application has its own SDK: one exporter's OkHttp dispatcher runs at most
        // max(cores, 5) calls and refuses more at once ("executor rejected"), a limit of the SDK, not the intake.
        // The default retry policy, said out loud: 5 attempts, backoff from 1 s growing x 1.5.
        java.util.function.Supplier<LogRecordExporter> newExporter = () -> http
                ? OtlpHttpLogRecordExporter.builder().setEndpoint("http://127.0.0.1:" + otlpHttpPort + "/v1/logs")
                .setRetryPolicy(RetryPolicy.getDefault()).build()
                : OtlpGrpcLogRecordExporter.builder().setEndpoint("http://127.0.0.1:" + grpcPort)
                .setRetryPolicy(RetryPolicy.getDefault()).build();
        try {
            HoldfastProcess.awaitReady(httpPort, Duration.ofSeconds(60), intake);
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Thread th = new Thread(() -> {
                    try {
                        exportLoop(thread, newExporter.get(), stop, exports);
                    } catch (Throwable e) {
                        loadErrors.add(e);
                    }
                }, "otlp-load-" + t);
                th.start();
                load.add(th);
            }
            awaitSuccesses(exports, 20, 0, loadErrors);
            for (int kill = 1; kill <= KILLS; kill++) {
                Thread.sleep(700 + random.nextInt(1000));
                long before = successes(exports, 0);
                long killAt = System.nanoTime();
                intake.kill();
                Thread.sleep(1000);
                intake = HoldfastProcess.start(intakeLog, intakeArgs);
                long ready = HoldfastProcess.awaitReady(httpPort, Duration.ofSeconds(30), intake);
                long readyAt = System.nanoTime();
                outages.add(new Outage(killAt, readyAt));
                restartMillis.add(ready);
                System.out.printf("kill %d: %d exports successful before it; restart ready %d ms after start%n",
                        kill, before, ready);
                // the next kill hits an intake that is taking exports again
                awaitSuccesses(exports, 4, readyAt, loadErrors);
            }
            Thread.sleep(1000);
        } finally {
            stop.set(true);
            for (Thread th : load) {
                th.join(TimeUnit.SECONDS.toMillis(60));
            }
            intake.kill(); // one more crash for good measure: verification reads what the disk holds
        }
        assertEquals(List.of(), loadErrors, "the load threads failed");
        for (Thread th : load) {
            assertFalse(th.isAlive(), th.getName() + " did not stop");
        }

        // what the disk holds: `wal verify` finds no damage, and every log record by its body
        HoldfastProcess.Result verify = HoldfastProcess.run(intakeLog, Duration.ofMinutes(2),
                "wal", "verify", "--data", data.toString());
        assertEquals(0, verify.exitCode(), verify.stdout());
        assertTrue(verify.stdout().contains("damaged places: 0"), verify.stdout());
        Map<String, Integer> copies = new HashMap<>();
        Map<String, Integer> requestsPerBatch = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        long[] walRecords = {0};
        try (WalInspector wal = WalInspector.open(IntakeServer.walDir(data))) {
            wal.forEach(null, null, entry -> {
                if (entry instanceof WalReader.Corrupt c) {
                    problems.add("damaged at " + c.segment() + ":" + c.position() + ": " + c.reason());
                    return;
                }
                WalRecord r = ((WalReader.Valid) entry).record();
                walRecords[0]++;
                if (r.header().kind() != RecordKind.OTLP_LOGS) {
                    problems.add("a record of kind " + r.header().kind() + " at " + Long.toHexString(r.index()));
                    return;
                }
                try {
                    String batch = null;
                    int logs = 0;
                    ExportLogsServiceRequest request = ExportLogsServiceRequest.parseFrom(r.payload());
                    for (ResourceLogs rl : request.getResourceLogsList()) {
                        for (ScopeLogs sl : rl.getScopeLogsList()) {
                            for (LogRecord log : sl.getLogRecordsList()) {
                                String body = log.getBody().getStringValue();
                                copies.merge(body, 1, Integer::sum);
                                batch = body.substring(0, body.lastIndexOf("-r"));
                                logs++;
                            }
                        }
                    }
                    if (logs != BATCH || r.header().eventCount() != BATCH) {
                        problems.add("WAL record " + Long.toHexString(r.index()) + " holds " + logs
                                + " log records (header says " + r.header().eventCount() + "), not " + BATCH);
                    }
                    requestsPerBatch.merge(batch, 1, Integer::sum);
                } catch (Exception e) {
                    problems.add("WAL record " + Long.toHexString(r.index()) + " is not an OTLP logs request: " + e);
                }
            });
        }
        assertEquals(List.of(), problems, "the WAL holds only whole OTLP log requests, undamaged");

        List<Export> all = new ArrayList<>(exports);
        List<Export> succeeded = all.stream().filter(Export::success).toList();
        List<Export> failed = all.stream().filter(e -> !e.success()).toList();
        List<String> missing = new ArrayList<>();
        for (Export e : succeeded) {
            for (int i = 0; i < BATCH; i++) {
                String body = body(e.thread(), e.batch(), i);
                if (!copies.containsKey(body)) {
                    missing.add(body);
                }
            }
        }
        List<String> twice = copies.entrySet().stream().filter(c -> c.getValue() > 1)
                .map(c -> c.getKey() + " x" + c.getValue()).sorted().toList();
        List<String> batchesTwice = requestsPerBatch.entrySet().stream().filter(b -> b.getValue() > 1)
                .map(b -> b.getKey() + " x" + b.getValue()).toList();
        long failedButWritten = failed.stream().filter(e -> requestsPerBatch.containsKey(e.id())).count();
        // carried across a restart by the SDK's retries: in flight at a kill or started while the intake was down,
        // and still answered successful once it was back
        long carried = succeeded.stream().filter(e -> outages.stream()
                .anyMatch(o -> e.startNanos() < o.readyNanos() && e.endNanos() > o.killNanos())).count();
        long[] millis = succeeded.stream().mapToLong(e -> TimeUnit.NANOSECONDS.toMillis(e.endNanos() - e.startNanos()))
                .sorted().toArray();
        String latency = millis.length == 0 ? "-" : "p50 " + millis[millis.length / 2] + ", p99 "
                + millis[(int) (millis.length * 0.99)] + ", max " + millis[millis.length - 1];
        Map<String, Integer> failures = new TreeMap<>();
        for (Export e : failed) {
            failures.merge(e.failure(), 1, Integer::sum);
        }

        String report = String.format("OTLP/%s crash test: seed %d, %d SIGKILLs, %d threads x %d log records per export;"
                        + " exports %d: %d successful (%d log records), %d failed %s, %d of the failed in the WAL"
                        + " anyway; carried across a restart by the SDK's retries: %d; WAL records %d; log records in"
                        + " the WAL twice: %d (exports written twice: %s); missing: %d; restart-to-ready ms: %s;"
                        + " successful export ms (retries included): %s%n",
                transport, seed, KILLS, THREADS, BATCH, all.size(), succeeded.size(), succeeded.size() * (long) BATCH,
                failed.size(), failures, failedButWritten, carried, walRecords[0], twice.size(), batchesTwice,
                missing.size(), restartMillis, latency);
        System.out.print(report);
        Files.writeString(Path.of("target", "otlp-crash-report-" + transport + ".txt"), report);

        assertEquals(List.of(), missing.subList(0, Math.min(missing.size(), 50)),
                missing.size() + " log records of exports the SDK reported successful are missing from the WAL"
                        + " (the first 50 shown)");
        assertTrue(succeeded.size() >= 20 * (KILLS + 1), "too little load to prove anything: " + report);
        assertTrue(carried > 0, "no export was carried across a restart by the SDK's retry policy: " + report);
    }

    /**
     * One thread of load: its own SDK logger provider (service.name crash-t&lt;thread&gt;) collects 100 records with
     * unique bodies, which its OTLP exporter exports, until told to stop. Every call is recorded.
     */
    private static void exportLoop(int thread, LogRecordExporter exporter, AtomicBoolean stop,
                                   Collection<Export> exports) throws InterruptedException {
        InMemoryLogRecordExporter collected = InMemoryLogRecordExporter.create();
        SdkLoggerProvider provider = SdkLoggerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), "crash-t" + thread))))
                .addLogRecordProcessor(SimpleLogRecordProcessor.create(collected))
                .build();
        Logger logger = provider.get("holdfast.otlp-crash");
        try {
            for (int batch = 0; !stop.get(); batch++) {
                long start = System.nanoTime();
                collected.reset();
                for (int i = 0; i < BATCH; i++) {
                    logger.logRecordBuilder().setBody(body(thread, batch, i)).setSeverity(Severity.INFO)
                            .setAttribute(AttributeKey.longKey("i"), (long) i).emit();
                }
                List<LogRecordData> batchRecords = collected.getFinishedLogRecordItems();
                assertEquals(BATCH, batchRecords.size());
                CompletableResultCode result = exporter.export(batchRecords).join(60, TimeUnit.SECONDS);
                long end = System.nanoTime();
                String failure = result.isSuccess() ? null : !result.isDone() ? "not done in 60 s"
                        : String.valueOf(result.getFailureThrowable());
                exports.add(new Export(thread, batch, start, end, result.isSuccess(), failure));
                long rest = EXPORT_PERIOD_MS - TimeUnit.NANOSECONDS.toMillis(end - start);
                if (rest > 0) {
                    Thread.sleep(rest);
                }
            }
        } finally {
            provider.shutdown().join(10, TimeUnit.SECONDS);
            exporter.shutdown().join(10, TimeUnit.SECONDS);
        }
    }

    private static String body(int thread, int batch, int i) {
        return "t" + thread + "-b" + batch + "-r" + i;
    }

    private static long successes(Collection<Export> exports, long startedAfterNanos) {
        return exports.stream().filter(e -> e.success() && e.startNanos() >= startedAfterNanos).count();
    }

    /** Waits until {@code n} exports that started after the given moment succeeded (the load is flowing). */
    private static void awaitSuccesses(Collection<Export> exports, long n, long startedAfterNanos,
                                       List<Throwable> loadErrors) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (successes(exports, startedAfterNanos) < n) {
            if (!loadErrors.isEmpty() || System.nanoTime() > deadline) {
                throw new AssertionError("exports are not succeeding (wanted " + n + "); load errors " + loadErrors
                        + "; last exports " + exports.stream().skip(Math.max(0, exports.size() - 8)).toList());
            }
            Thread.sleep(20);
        }
    }
}
