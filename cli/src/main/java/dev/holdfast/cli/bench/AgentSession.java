package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One simulated agent: one Stream at a time, reconnecting with backoff until its budget is done.
 *
 * <p>All state is owned by the agent's own thread. gRPC callbacks only enqueue {@link StreamEvent}s,
 * so there are no locks, and every ClientCall method is called from this one thread, which the
 * ClientCall contract requires anyway.
 */
final class AgentSession implements Runnable {

    /** How long a connected stream may stay silent before Welcome is treated as lost. */
    static final long WELCOME_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Floor for RETRY_LATER delays, so an intake answering retry_after_ms=0 cannot make us spin. */
    static final long MIN_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Longest idle wait, so time-based budget changes are noticed promptly. */
    private static final long MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long CLOSE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private enum State { DISCONNECTED, AWAITING_WELCOME, ACTIVE }

    private final String agentId;
    private final ManagedChannel channel;
    private final MethodDescriptor<byte[], IntakeMessage> method;
    private final BatchEncoder encoder;
    private final int window;
    /** Pacing for --rate: a new batch no earlier than nextBatchAtNanos; 0 = unpaced. */
    private final long batchIntervalNanos;
    private long nextBatchAtNanos;
    private final RunControl control;
    private final BenchStats stats;
    private final AckSink ackSink;
    private final Backoff backoff;
    private final LongSupplier clock;
    private final PrintStream log;
    private final byte[] helloBytes;

    private final LinkedBlockingQueue<StreamEvent> events = new LinkedBlockingQueue<>();
    /** Every produced batch not yet acknowledged, by seq: the agent's "spool". */
    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    /** Pending batches to (re)send on the current stream before any new batch. */
    private final TreeSet<Long> resendQueue = new TreeSet<>();
    private final PriorityQueue<RetryDue> retryTimers = new PriorityQueue<>();

    private ClientCall<byte[], IntakeMessage> call;
    private State state = State.DISCONNECTED;
    private int generation;
    private long reconnectAtNanos;
    private long welcomeDeadlineNanos;
    private boolean connectedBefore;
    private boolean resumePointKnown;
    private boolean failureLogged;
    private boolean attemptedBefore;

    private long nextSeq = 1;
    private long firstSeq = 1;
    private long produced;
    private int eventCursor;
    private long invalidCount;

    private volatile Result result;

    AgentSession(String agentId, ManagedChannel channel, MethodDescriptor<byte[], IntakeMessage> method,
                 BatchEncoder encoder, int window, RunControl control, BenchStats stats, AckSink ackSink,
                 Backoff backoff, LongSupplier clock, PrintStream log, long batchIntervalNanos) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1");
        }
        this.agentId = agentId;
        this.channel = channel;
        this.method = method;
        this.encoder = encoder;
        this.window = window;
        this.batchIntervalNanos = batchIntervalNanos;
        this.control = control;
        this.stats = stats;
        this.ackSink = ackSink;
        this.backoff = backoff;
        this.clock = clock;
        this.log = log;
        this.helloBytes = AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)).build()
                .toByteArray();
    }

    @Override
    public void run() {
        boolean gaveUp = false;
        try {
            while (true) {
                long now = clock.getAsLong();
                if (pending.isEmpty() && !control.mayProduce(produced, now)) {
                    break;
                }
                if (control.gaveUp(now)) {
                    gaveUp = true;
                    break;
                }
                step(now);
                StreamEvent event = events.poll(waitNanos(clock.getAsLong()), TimeUnit.NANOSECONDS);
                while (event != null) {
                    handle(event);
                    event = events.poll();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            gaveUp = true;
        } catch (RuntimeException e) {
            log.printf("agent %s: stopped by unexpected error: %s%n", agentId, e);
            gaveUp = true;
        } finally {
            closeStream(gaveUp);
            stats.inFlightDelta(-pending.size());
            result = new Result(agentId, firstSeq, nextSeq - 1, produced, pending.size(), invalidCount);
        }
    }

    /** Valid once {@link #run()} has returned. */
    Result result() {
        return result;
    }

    private void step(long now) {
        switch (state) {
            case DISCONNECTED -> {
                if (now - reconnectAtNanos >= 0) {
                    openStream(now);
                }
            }
            case AWAITING_WELCOME -> {
                if (now - welcomeDeadlineNanos >= 0) {
                    call.cancel("no Welcome within " + TimeUnit.NANOSECONDS.toSeconds(WELCOME_TIMEOUT_NANOS) + "s", null);
                    streamLost(now, Status.DEADLINE_EXCEEDED.withDescription("no Welcome"));
                }
            }
            case ACTIVE -> {
                releaseDueRetries(now);
                pump();
            }
        }
    }

    private long waitNanos(long now) {
        long wait = MAX_WAIT_NANOS;
        if (state == State.DISCONNECTED) {
            wait = Math.min(wait, reconnectAtNanos - now);
        } else if (state == State.AWAITING_WELCOME) {
            wait = Math.min(wait, welcomeDeadlineNanos - now);
        } else {
            if (!retryTimers.isEmpty()) {
                wait = Math.min(wait, retryTimers.peek().dueNanos - now);
            }
            if (batchIntervalNanos > 0 && pending.size() < window) {
                wait = Math.min(wait, nextBatchAtNanos - now);
            }
        }
        return Math.max(0, wait);
    }

    private void openStream(long now) {
        if (attemptedBefore) {
            // The channel has its own reconnect backoff (up to minutes); ours is the one that should
            // pace attempts, so make the channel dial immediately when we decide to retry.
            channel.resetConnectBackoff();
        }
        attemptedBefore = true;
        generation++;
        call = channel.newCall(method, CallOptions.DEFAULT);
        call.start(new Listener(generation), new Metadata());
        // Acks are tiny and bounded by the window, so inbound flow control would only add latency.
        call.request(Integer.MAX_VALUE);
        call.sendMessage(helloBytes);
        state = State.AWAITING_WELCOME;
        welcomeDeadlineNanos = now + WELCOME_TIMEOUT_NANOS;
    }

    private void handle(StreamEvent event) {
        long now = clock.getAsLong();
        if (event instanceof StreamEvent.Ack ack) {
            onAck(ack.generation(), ack.ack(), now);
        } else if (event.generation() != generation) {
            return; // a stream we already abandoned
        } else if (event instanceof StreamEvent.Welcomed welcomed) {
            onWelcome(welcomed.welcome());
        } else if (event instanceof StreamEvent.Closed closed) {
            if (state != State.DISCONNECTED) {
                streamLost(now, closed.status());
            }
        }
        // StreamEvent.Ready needs no handling: the loop pumps after every event batch.
    }

    private void onWelcome(Welcome welcome) {
        if (state != State.AWAITING_WELCOME) {
            return;
        }
        state = State.ACTIVE;
        backoff.reset();
        failureLogged = false;
        if (connectedBefore) {
            stats.reconnected();
        }
        connectedBefore = true;
        long through = welcome.getPersistedThrough();
        Set<Long> above = new HashSet<>(welcome.getPersistedAboveList());
        if (!resumePointKnown) {
            resumePointKnown = true;
            continueAfterEarlierRuns(through, above);
        }
        for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Pending> entry = it.next();
            Pending p = entry.getValue();
            p.inFlight = false;
            long seq = entry.getKey();
            if (seq <= through || above.contains(seq)) {
                // Durable, only the ack was lost with the old stream: the Welcome is the ack.
                it.remove();
                stats.inFlightDelta(-1);
                stats.resumedAsPersisted(p.batch.events(), p.batch.payloadBytes());
                ackSink.acknowledged(agentId, seq);
            } else {
                resendQueue.add(seq);
            }
        }
        retryTimers.clear(); // everything unpersisted is resent now; old timers would only duplicate
    }

    /**
     * Like a restarted agent continuing from its spool: if an earlier run with the same agent id
     * already persisted batches, start above them instead of sending nothing but duplicates.
     */
    private void continueAfterEarlierRuns(long through, Set<Long> above) {
        long highest = through;
        for (long seq : above) {
            highest = Math.max(highest, seq);
        }
        if (highest >= nextSeq && pending.isEmpty()) {
            log.printf("agent %s: intake already holds batches up to %d, continuing at %d%n",
                    agentId, highest, highest + 1);
            nextSeq = highest + 1;
            firstSeq = nextSeq;
        }
    }

    private void onAck(int ackGeneration, BatchAck ack, long now) {
        long seq = ack.getBatchSeq();
        Pending p = pending.get(seq);
        switch (ack.getStatus()) {
            case PERSISTED, DUPLICATE -> {
                // true whichever stream carried it, so accepted even from an abandoned one
                if (p == null) {
                    stats.unexpectedAck();
                    return;
                }
                removePending(seq);
                boolean duplicate = ack.getStatus() == BatchAck.Status.DUPLICATE;
                stats.acked(p.batch.events(), p.batch.payloadBytes(), now - p.sentAtNanos, duplicate);
                ackSink.acknowledged(agentId, seq);
            }
            case RETRY_LATER -> {
                if (ackGeneration != generation || p == null || !p.inFlight) {
                    stats.unexpectedAck();
                    return;
                }
                p.inFlight = false;
                stats.retryLater();
                long delay = Math.max(MIN_RETRY_NANOS, TimeUnit.MILLISECONDS.toNanos(ack.getRetryAfterMs()));
                retryTimers.add(new RetryDue(now + delay, seq));
            }
            default -> {
                // INVALID, or a status this client does not know: resending cannot help
                if (p == null) {
                    stats.unexpectedAck();
                    return;
                }
                removePending(seq);
                invalidCount++;
                String why = ack.getStatus() == BatchAck.Status.INVALID
                        ? ack.getMessage() : "unexpected status " + ack.getStatus() + " " + ack.getMessage();
                stats.invalid(agentId, seq, why);
                if (invalidCount <= 5) {
                    log.printf("agent %s: batch %d INVALID: %s%n", agentId, seq, why);
                }
            }
        }
    }

    private void removePending(long seq) {
        pending.remove(seq);
        resendQueue.remove(seq);
        stats.inFlightDelta(-1);
    }

    private void streamLost(long now, Status status) {
        boolean wasActive = state == State.ACTIVE;
        state = State.DISCONNECTED;
        call = null;
        stats.streamFailed();
        for (Pending p : pending.values()) {
            p.inFlight = false;
        }
        resendQueue.clear();
        retryTimers.clear();
        long delayMillis = backoff.nextDelayMillis();
        reconnectAtNanos = now + TimeUnit.MILLISECONDS.toNanos(delayMillis);
        // One line per outage, not per failed attempt, or a restart would flood the terminal.
        if (wasActive || !failureLogged) {
            failureLogged = true;
            log.printf("agent %s: stream %s (%s%s), %d unacked, reconnecting with backoff%n", agentId,
                    wasActive ? "lost" : "failed", status.getCode(),
                    status.getDescription() == null ? "" : ": " + status.getDescription(), pending.size());
        }
    }

    private void releaseDueRetries(long now) {
        while (!retryTimers.isEmpty() && now - retryTimers.peek().dueNanos >= 0) {
            long seq = retryTimers.poll().seq;
            Pending p = pending.get(seq);
            if (p != null && !p.inFlight) {
                resendQueue.add(seq);
            }
        }
    }

    /** Sends resends first (in seq order), then new batches while the window and transport allow. */
    private void pump() {
        while (call.isReady()) {
            Long resend = resendQueue.pollFirst();
            if (resend != null) {
                Pending p = pending.get(resend);
                if (p != null && !p.inFlight) {
                    send(p);
                }
                continue;
            }
            long now = clock.getAsLong();
            if (pending.size() >= window || !control.mayProduce(produced, now)
                    || batchIntervalNanos > 0 && now - nextBatchAtNanos < 0) {
                return;
            }
            if (batchIntervalNanos > 0) {
                // a fixed schedule; an agent that fell behind (outage, full window) catches up by one batch at most
                nextBatchAtNanos = Math.max(nextBatchAtNanos, now - batchIntervalNanos) + batchIntervalNanos;
            }
            Pending p = new Pending(encoder.encode(agentId, nextSeq, eventCursor));
            eventCursor += encoder.eventsPerBatch();
            pending.put(nextSeq, p);
            nextSeq++;
            produced++;
            stats.inFlightDelta(1);
            send(p);
        }
    }

    private void send(Pending p) {
        p.inFlight = true;
        p.sentAtNanos = clock.getAsLong();
        call.sendMessage(p.batch.wireBytes());
        stats.batchSent();
    }

    /** Half-closes politely when done; cancels when giving up or if the intake does not finish. */
    private void closeStream(boolean gaveUp) {
        if (call == null) {
            return;
        }
        ClientCall<byte[], IntakeMessage> closing = call;
        call = null;
        if (gaveUp || state != State.ACTIVE) {
            closing.cancel("bench finished", null);
            return;
        }
        closing.halfClose();
        long deadline = clock.getAsLong() + CLOSE_GRACE_NANOS;
        try {
            while (true) {
                long left = deadline - clock.getAsLong();
                StreamEvent event = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
                if (event == null) {
                    closing.cancel("intake did not complete the stream", null);
                    return;
                }
                if (event instanceof StreamEvent.Closed && event.generation() == generation) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing.cancel("interrupted", null);
        }
    }

    private static final class Pending {
        final BatchEncoder.EncodedBatch batch;
        long sentAtNanos;
        boolean inFlight;

        Pending(BatchEncoder.EncodedBatch batch) {
            this.batch = batch;
        }
    }

    private record RetryDue(long dueNanos, long seq) implements Comparable<RetryDue> {
        @Override
        public int compareTo(RetryDue o) {
            return Long.compare(dueNanos - o.dueNanos, 0);
        }
    }

    /** Outcome of one agent, for the report and the exit code. */
    record Result(String agentId, long firstSeq, long lastSeq, long produced, long unacknowledged, long invalid) {
    }

    /** Runs on gRPC's thread (direct executor): hand over and return, never block. */
    private final class Listener extends ClientCall.Listener<IntakeMessage> {
        private final int gen;

        Listener(int gen) {
            this.gen = gen;
        }

        @Override
        public void onMessage(IntakeMessage message) {
            switch (message.getKindCase()) {
                case WELCOME -> events.add(new StreamEvent.Welcomed(gen, message.getWelcome()));
                case ACK -> events.add(new StreamEvent.Ack(gen, message.getAck()));
                default -> { } // a newer intake may send kinds we do not know; ignore them
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            events.add(new StreamEvent.Closed(gen, status));
        }

        @Override
        public void onReady() {
            events.add(new StreamEvent.Ready(gen));
        }
    }
}
