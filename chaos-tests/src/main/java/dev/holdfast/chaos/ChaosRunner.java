package dev.holdfast.chaos;

import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ChaosReport;
import dev.holdfast.chaos.harness.ScenarioResult;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs scenarios one after another against one context, adding each result to the report as it completes. */
public final class ChaosRunner {
    private final ChaosContext ctx;
    private final ChaosReport report;

    public ChaosRunner(ChaosContext ctx, ChaosReport report) {
        this.ctx = ctx;
        this.report = report;
    }

    public ScenarioResult run(Scenario scenario) throws Exception {
        ScenarioResult r = new ScenarioResult(scenario.name(), ctx.seed());
        ctx.log("%s: %s", scenario.name(), scenario.summary());
        long t0 = System.nanoTime();
        try {
            scenario.run(ctx, r);
        } catch (Scenario.Unavailable e) {
            r.skipped = e.getMessage();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception | AssertionError e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            ctx.out().print(trace);
            r.failures.add("aborted: " + e);
        }
        r.seconds = (System.nanoTime() - t0) / 1e9;
        report.add(r);
        ctx.log("%s: %s in %.0f s: sent %,d batches, acked %,d events, delivered %,d, lost %,d, duplicates %,d, "
                        + "max ack gap %,d ms; %s", scenario.name(),
                r.skipped != null ? "SKIPPED (" + r.skipped + ")" : r.passed() ? "PASS" : "FAIL", r.seconds,
                r.sentBatches, r.ackedEvents, r.deliveredEvents, r.lostEvents, r.duplicateEvents, r.maxAckGapMillis,
                r.factsText());
        return r;
    }
}
