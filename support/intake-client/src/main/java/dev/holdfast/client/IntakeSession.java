package dev.holdfast.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * One agent's conversation with the intake: one Stream at a time, per-batch acks, resume by seq after a lost stream,
 * failover between {@link Endpoints}, reconnects with jittered backoff. The bench's simulated agents and the shipper
 * both run it; they differ only in their {@link BatchSource}.
 *
 * <p>All state is owned by the session's own thread. gRPC callbacks only enqueue {@link StreamEvent}s, so there are
 * no locks, and every ClientCall method is called from this one thread, which the ClientCall contract requires.
 */
public final class IntakeSession implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(IntakeSession.class);


    /** Floor for RETRY_LATER delays, so an intake answering retry_after_ms=0 cannot make us spin. */
    static final long MIN_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Longest idle wait, so time-based budget changes are noticed promptly. */
    private static final long MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long CLOSE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * @param window        batches sent and not yet acknowledged, at most
     * @param welcomeTimeout how long a new stream may stay silent before the Welcome is treated as lost
     * @param ackTimeout     how long a sent batch may wait for its ack before the stream is treated as dead (a frozen
     *                       intake keeps its TCP connection open but answers nothing)
     */
    public record Options(int window, long welcomeTimeoutNanos, long ackTimeoutNanos) {
        public Options {
            if (window < 1) {
                throw new IllegalArgumentException("window must be >= 1");
            }
            if (welcomeTimeoutNanos <= 0 || ackTimeoutNanos <= 0) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }

        public static Options of(int window) {
            return new Options(window, TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(20));
        }
    }

    private enum State { DISCONNECTED, AWAITING_WELCOME, ACTIVE }

    private static final MethodDescriptor<byte[], IntakeMessage> METHOD = IntakeStreamMethod.create();

    private final String agentId;
    private final Endpoints endpoints;
    private final BatchSource source;
    private final SessionListener listener;
    private final Backoff backoff;
    private final Options options;
    private final LongSupplier clock;

    private final LinkedBlockingQueue<StreamEvent> events = new LinkedBlockingQueue<>();
    /** Every batch handed out and not yet acknowledged, by seq (unsigned order: batch_seq is a uint64). */
    private final TreeMap<Long, Pending> pending = new TreeMap<>(Long::compareUnsigned);
    /** Pending batches to (re)send on the current stream before any new batch. */
    private final TreeSet<Long> resendQueue = new TreeSet<>(Long::compareUnsigned);
    private final PriorityQueue<RetryDue> retryTimers = new PriorityQueue<>();

    private ClientCall<byte[], IntakeMessage> call;
    private Endpoints.Endpoint endpoint;
    private State state = State.DISCONNECTED;
    private int generation;
    private long reconnectAtNanos;
    private long welcomeDeadlineNanos;
    private boolean connectedBefore;
    private boolean resumePointKnown;
    private boolean failureLogged;
    private volatile boolean stopRequested;
    private volatile int unacknowledgedAtEnd;

    public IntakeSession(String agentId, Endpoints endpoints, BatchSource source, SessionListener listener,
                         Backoff backoff, Options options, LongSupplier clock) {
        this.agentId = agentId;
        this.endpoints = endpoints;
        this.source = source;
        this.listener = listener;
        this.backoff = backoff;
        this.options = options;
        this.clock = clock;
    }

    @Override
    public void run() {
        boolean gaveUp = false;
        try {
            for (OutboundBatch b : source.recovered()) {
                pending.put(b.seq(), new Pending(b));
                listener.inFlightDelta(1);
            }
            while (true) {
                long now = clock.getAsLong();
                if (stopRequested || pending.isEmpty() && source.exhausted(now)) {
                    break;
                }
                if (source.gaveUp(now)) {
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
            LOG.error("agent {}: stopped by unexpected error", agentId, e);
            gaveUp = true;
        } finally {
            closeStream(gaveUp || stopRequested);
            listener.inFlightDelta(-pending.size());
            unacknowledgedAtEnd = pending.size();
        }
    }

    /** New data may be ready in the source: stop waiting. Any thread. */
    public void wakeup() {
        events.add(new StreamEvent.Wakeup());
    }

    /** Ends {@link #run()} promptly; unacknowledged batches stay with the source. Any thread. */
    public void stop() {
        stopRequested = true;
        wakeup();
    }

    /** Batches still unacknowledged when {@link #run()} returned. */
    public int unacknowledgedAtEnd() {
        return unacknowledgedAtEnd;
    }

    /** The intake this session is connected to (or last tried), for status lines. */
    public String endpointDescription() {
        Endpoints.Endpoint e = endpoint;
        return e == null ? "none" : e.toString();
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
                    abandonStream(now, "no Welcome within "
                            + TimeUnit.NANOSECONDS.toSeconds(options.welcomeTimeoutNanos()) + "s");
                }
            }
            case ACTIVE -> {
                if (oldestUnansweredSendNanos(now) - now + options.ackTimeoutNanos() <= 0) {
                    abandonStream(now, "no ack within " + TimeUnit.NANOSECONDS.toSeconds(options.ackTimeoutNanos())
                            + "s");
                    return;
                }
                releaseDueRetries(now);
                pump();
            }
        }
    }

    private long oldestUnansweredSendNanos(long now) {
        long oldest = now;
        for (Pending p : pending.values()) {
            if (p.inFlight && p.sentAtNanos - oldest < 0) {
                oldest = p.sentAtNanos;
            }
        }
        return oldest;
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
            if (pending.size() < options.window()) {
                wait = Math.min(wait, source.nextDueNanos(now, MAX_WAIT_NANOS) - now);
            }
        }
        return Math.max(0, wait);
    }

    private void openStream(long now) {
        endpoint = endpoints.next();
        if (endpoint == null) {
            streamLost(now, Status.UNAVAILABLE.withDescription("no intake address resolves (DNS) yet"));
            return;
        }
        ManagedChannel channel = endpoints.channel(endpoint);
        // The channel has its own reconnect backoff (up to minutes); ours is the one that should pace attempts, so
        // make the channel dial immediately when we decide to try.
        channel.resetConnectBackoff();
        generation++;
        call = channel.newCall(METHOD, CallOptions.DEFAULT);
        call.start(new Listener(generation), new Metadata());
        // Acks are tiny and bounded by the window, so inbound flow control would only add latency.
        call.request(Integer.MAX_VALUE);
        call.sendMessage(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)
                .setAcknowledgedThrough(source.acknowledgedThrough())).build().toByteArray());
        state = State.AWAITING_WELCOME;
        welcomeDeadlineNanos = now + options.welcomeTimeoutNanos();
    }

    private void handle(StreamEvent event) {
        long now = clock.getAsLong();
        if (event instanceof StreamEvent.Ack ack) {
            onAck(ack.generation(), ack.ack(), ack.receivedAtNanos(), now);
        } else if (event.generation() != generation) {
            return; // a stream we already abandoned, or a wakeup: the loop pumps after every event batch
        } else if (event instanceof StreamEvent.Welcomed welcomed) {
            onWelcome(welcomed.welcome());
        } else if (event instanceof StreamEvent.Closed closed) {
            if (state != State.DISCONNECTED) {
                streamLost(now, closed.status());
            }
        }
    }

    private void onWelcome(Welcome welcome) {
        if (state != State.AWAITING_WELCOME) {
            return;
        }
        state = State.ACTIVE;
        backoff.reset();
        failureLogged = false;
        if (connectedBefore) {
            listener.reconnected();
        }
        connectedBefore = true;
        long through = welcome.getPersistedThrough();
        Set<Long> above = new HashSet<>(welcome.getPersistedAboveList());
        if (!resumePointKnown) {
            resumePointKnown = true;
            long highest = through;
            for (long seq : above) {
                if (Long.compareUnsigned(seq, highest) > 0) {
                    highest = seq;
                }
            }
            source.resumeAbove(highest);
        }
        for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Pending> entry = it.next();
            Pending p = entry.getValue();
            p.inFlight = false;
            long seq = entry.getKey();
            if (Long.compareUnsigned(seq, through) <= 0 || above.contains(seq)) {
                // Durable, only the ack was lost with the old stream: the Welcome is the ack.
                it.remove();
                listener.inFlightDelta(-1);
                listener.resumedAsPersisted(p.batch.events(), p.batch.payloadBytes());
                source.acknowledged(p.batch);
            } else {
                resendQueue.add(seq);
            }
        }
        retryTimers.clear(); // everything unpersisted is resent now; old timers would only duplicate
    }

    private void onAck(int ackGeneration, BatchAck ack, long receivedAtNanos, long now) {
        long seq = ack.getBatchSeq();
        Pending p = pending.get(seq);
        switch (ack.getStatus()) {
            case PERSISTED, DUPLICATE -> {
                // true whichever stream carried it, so accepted even from an abandoned one
                if (p == null) {
                    listener.unexpectedAck();
                    return;
                }
                removePending(seq);
                // from the send to the ack's arrival; an ack from an abandoned stream may predate a later resend
                listener.acked(p.batch.events(), p.batch.payloadBytes(), Math.max(0, receivedAtNanos - p.sentAtNanos),
                        ack.getStatus() == BatchAck.Status.DUPLICATE);
                source.acknowledged(p.batch);
            }
            case RETRY_LATER -> {
                if (ackGeneration != generation || p == null || !p.inFlight) {
                    listener.unexpectedAck();
                    return;
                }
                p.inFlight = false;
                listener.retryLater();
                long delay = Math.max(MIN_RETRY_NANOS, TimeUnit.MILLISECONDS.toNanos(ack.getRetryAfterMs()));
                retryTimers.add(new RetryDue(now + delay, seq));
            }
            default -> {
                // INVALID, or a status this client does not know: resending cannot help
                if (p == null) {
                    listener.unexpectedAck();
                    return;
                }
                removePending(seq);
                String why = ack.getStatus() == BatchAck.Status.INVALID
                        ? ack.getMessage() : "unexpected status " + ack.getStatus() + " " + ack.getMessage();
                listener.invalid(agentId, seq, why);
                source.rejected(p.batch, why);
            }
        }
    }

    private void removePending(long seq) {
        pending.remove(seq);
        resendQueue.remove(seq);
        listener.inFlightDelta(-1);
    }

    private void abandonStream(long now, String why) {
        call.cancel(why, null);
        if (state == State.ACTIVE && endpoint != null) {
            endpoints.failed(endpoint); // a node that stopped answering: prefer another (streamLost marks the rest)
        }
        streamLost(now, Status.DEADLINE_EXCEEDED.withDescription(why));
    }

    private void streamLost(long now, Status status) {
        boolean wasActive = state == State.ACTIVE;
        if (!wasActive && endpoint != null) {
            endpoints.failed(endpoint); // never got a Welcome from it: try another node next
        }
        state = State.DISCONNECTED;
        call = null;
        listener.streamFailed(status);
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
            if (refusedCredentials(status)) {
                // waiting does not heal this one, so say what would; retrying still resumes it once fixed
                LOG.error("agent {}: {} refused this agent ({}{}): check its token file or client certificate and"
                                + " the intake's auth rules; {} unacked batches are kept and sent once it is accepted",
                        agentId, endpointDescription(), status.getCode(),
                        status.getDescription() == null ? "" : ": " + status.getDescription(), pending.size());
            } else {
                LOG.warn("agent {}: stream to {} {} ({}{}), {} unacked, reconnecting with backoff", agentId,
                        endpointDescription(), wasActive ? "lost" : "failed", status.getCode(),
                        status.getDescription() == null ? "" : ": " + status.getDescription(), pending.size());
            }
        }
    }

    /** The intake does not accept this agent's credentials, or not for this agent id. */
    static boolean refusedCredentials(Status status) {
        return status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED;
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
            if (pending.size() >= options.window()) {
                return;
            }
            OutboundBatch batch = source.next(clock.getAsLong());
            if (batch == null) {
                return;
            }
            Pending p = new Pending(batch);
            pending.put(batch.seq(), p);
            listener.inFlightDelta(1);
            send(p);
        }
    }

    private void send(Pending p) {
        p.inFlight = true;
        p.sentAtNanos = clock.getAsLong();
        call.sendMessage(p.batch.wireBytes());
        listener.batchSent();
    }

    /** Half-closes politely when done; cancels when stopping, giving up, or if the intake does not finish. */
    private void closeStream(boolean cancel) {
        if (call == null) {
            return;
        }
        ClientCall<byte[], IntakeMessage> closing = call;
        call = null;
        if (cancel || state != State.ACTIVE) {
            closing.cancel("agent stopping", null);
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
        final OutboundBatch batch;
        long sentAtNanos;
        boolean inFlight;

        Pending(OutboundBatch batch) {
            this.batch = batch;
        }
    }

    private record RetryDue(long dueNanos, long seq) implements Comparable<RetryDue> {
        @Override
        public int compareTo(RetryDue o) {
            return Long.compare(dueNanos - o.dueNanos, 0);
        }
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
                case ACK -> events.add(new StreamEvent.Ack(gen, message.getAck(), clock.getAsLong()));
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
