package dev.holdfast.chaos;

import dev.holdfast.chaos.harness.ChaosContext;
import dev.holdfast.chaos.harness.ScenarioResult;

/** One failure the suite injects into the real processes, and the guarantees it checks while doing so. */
public abstract class Scenario {
    private final String name;
    private final String summary;

    /**
     * @param name    short name for --scenario and the report
     * @param summary one line: what is broken and what must hold
     */
    protected Scenario(String name, String summary) {
        this.name = name;
        this.summary = summary;
    }

    public final String name() {
        return name;
    }

    public final String summary() {
        return summary;
    }

    /** Runs the scenario, recording what it measured and every broken guarantee in {@code result}. */
    public abstract void run(ChaosContext ctx, ScenarioResult result) throws Exception;

    /** This machine cannot run the scenario (not root: no eBPF, no tmpfs mount); the message says why. */
    public static final class Unavailable extends Exception {
        public Unavailable(String why) {
            super(why);
        }
    }
}
