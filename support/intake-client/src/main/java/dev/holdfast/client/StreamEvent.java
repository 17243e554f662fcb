package dev.holdfast.client;

import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.Status;

/** What a stream's gRPC callbacks hand to the agent thread, tagged with the stream's generation. */
sealed interface StreamEvent {

    int generation();

    record Welcomed(int generation, Welcome welcome) implements StreamEvent {
    }

    /**
     * @param receivedAtNanos when gRPC delivered it, on the session's clock: the session thread may take it from the
     *                        queue later, and that wait is the agent's own scheduling, not the intake's answer
     */
    record Ack(int generation, BatchAck ack, long receivedAtNanos) implements StreamEvent {
    }

    record Closed(int generation, Status status) implements StreamEvent {
    }

    record Ready(int generation) implements StreamEvent {
    }

    /** New data in the source (any thread); carries no stream, so its generation matches none. */
    record Wakeup() implements StreamEvent {
        @Override
        public int generation() {
            return -1;
        }
    }
}
