package dev.holdfast.intake.status;

/**
 * Whether events leave this node for Kafka, as the status page says it: the intake without forwarding, or one whose
 * forwarder has not started (yet), must not look like a forwarder with nothing to do.
 *
 * @param state   {@code off} (this node does not forward), {@code starting} (the broker or the forwarder is still
 *                coming up; the WAL keeps everything meanwhile), {@code running}, {@code failed} (it could not
 *                start; see detail), {@code stopped}
 * @param detail  for an operator: where it forwards to, or why it is not forwarding
 * @param circuit the Kafka circuit breaker's state ({@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, ...) while
 *                running; null otherwise
 */
public record ForwarderState(String state, String detail, String circuit) {
    public static final ForwarderState OFF = new ForwarderState("off",
            "forwarder not running: this intake does not forward (kafka: none or forwarder disabled); events stay in"
                    + " its WAL", null);

    public boolean running() {
        return state.equals("running");
    }
}
