package dev.holdfast.chaos;

import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ScenarioResult;

/** One failure the suite injects into the real processes, and the guarantees it checks while doing so. */
public interface Scenario {
    /** Short name for --scenario and the report. */
    String name();

    /** One line: what is broken and what must hold. */
    String summary();

    /** Runs the scenario, recording what it measured and every broken guarantee in {@code result}. */
    void run(ChaosContext ctx, ScenarioResult result) throws Exception;

    /** This machine cannot run the scenario (not root: no eBPF, no tmpfs mount); the message says why. */
    final class Unavailable extends Exception {
        public Unavailable(String why) {
            super(why);
        }
    }
}
