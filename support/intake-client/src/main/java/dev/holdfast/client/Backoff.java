package dev.holdfast.client;

import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (delay uniform in [0, min(cap, base * 2^attempt)]), so a
 * fleet of agents reconnecting after an intake restart spreads out instead of arriving together.
 * Not thread-safe: each agent owns one.
 */
public final class Backoff {

    private final long baseMillis;
    private final long capMillis;
    private final RandomGenerator random;
    private int attempt;

    public Backoff(long baseMillis, long capMillis, RandomGenerator random) {
        if (baseMillis <= 0 || capMillis < baseMillis) {
            throw new IllegalArgumentException("need 0 < base <= cap");
        }
        this.baseMillis = baseMillis;
        this.capMillis = capMillis;
        this.random = random;
    }

    /** The delay before the next attempt; each call widens the window up to the cap. */
    public long nextDelayMillis() {
        long ceiling = ceilingMillis(attempt);
        if (ceiling < capMillis) {
            attempt++;
        }
        return random.nextLong(ceiling + 1);
    }

    /** Called once a connection proved healthy, so the next failure starts small again. */
    public void reset() {
        attempt = 0;
    }

    long ceilingMillis(int forAttempt) {
        // shift is bounded so the multiplication cannot overflow before the cap applies
        long scaled = baseMillis << Math.min(forAttempt, 30);
        return Math.min(capMillis, scaled);
    }
}
