package dev.holdfast.chaos.harness;

import java.io.IOException;
import java.nio.file.Path;

/** The two intake nodes most scenarios run: one topic, a data directory each, both started and ready. */
public final class IntakePair implements AutoCloseable {
    private final IntakeNode a;
    private final IntakeNode b;

    private IntakePair(IntakeNode a, IntakeNode b) {
        this.a = a;
        this.b = b;
    }

    public static IntakePair start(ChaosContext ctx, Path dir, String topic) throws IOException, InterruptedException {
        IntakeNode a = ctx.intake(dir, "intake-a", topic, IntakeNode.SMALL_WAL);
        IntakeNode b = ctx.intake(dir, "intake-b", topic, IntakeNode.SMALL_WAL);
        IntakePair pair = new IntakePair(a, b);
        try {
            // side by side: on two cores the second JVM's start overlaps the first's
            a.spawn();
            b.spawn();
            a.awaitReady();
            b.awaitReady();
            return pair;
        } catch (IOException | RuntimeException e) {
            pair.close();
            throw e;
        }
    }

    public IntakeNode a() {
        return a;
    }

    public IntakeNode b() {
        return b;
    }

    /** Both gRPC addresses, as agents are given them. */
    public String targets() {
        return a.address() + "," + b.address();
    }

    public boolean bothAlive() {
        return a.alive() && b.alive();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            a.close();
        } finally {
            b.close();
        }
    }
}
