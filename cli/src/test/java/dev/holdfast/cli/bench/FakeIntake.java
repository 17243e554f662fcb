package dev.holdfast.cli.bench;

import dev.holdfast.protocol.v1.AgentMessage;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.IntakeMessage;
import dev.holdfast.protocol.v1.IntakeServiceGrpc;
import dev.holdfast.protocol.v1.Welcome;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;

/**
 * A minimal intake: "persists" batches in memory (before acking, like the real one), answers
 * Welcome from what it holds, sheds chosen first attempts with RETRY_LATER, and can kill one
 * stream right after persisting a batch, so that batch's ack is lost.
 */
final class FakeIntake extends IntakeServiceGrpc.IntakeServiceImplBase {

    private final BiPredicate<String, Long> retryFirstAttempt;
    private final BiPredicate<String, Long> killAfterPersisting;
    private final AtomicBoolean killed = new AtomicBoolean();
    private final Map<String, Set<Long>> persisted = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> receipts = new ConcurrentHashMap<>();
    private final AtomicInteger resentAfterPersisted = new AtomicInteger();
    private final AtomicInteger batchesReceived = new AtomicInteger();
    private final List<Welcome> welcomes = new CopyOnWriteArrayList<>();

    /** Batches above this sequence are taken in but neither persisted nor answered (an intake that hangs). */
    private volatile long holdAbove = Long.MAX_VALUE;
    private final Set<String> agentsHeld = ConcurrentHashMap.newKeySet();

    FakeIntake(BiPredicate<String, Long> retryFirstAttempt, BiPredicate<String, Long> killAfterPersisting) {
        this.retryFirstAttempt = retryFirstAttempt;
        this.killAfterPersisting = killAfterPersisting;
    }

    @Override
    public StreamObserver<AgentMessage> stream(StreamObserver<IntakeMessage> out) {
        return new StreamObserver<>() {
            private String agent;
            private boolean dead;

            @Override
            public void onNext(AgentMessage message) {
                if (dead) {
                    return;
                }
                if (message.hasHello()) {
                    agent = message.getHello().getAgentId();
                    Welcome welcome = welcomeFor(agent);
                    welcomes.add(welcome);
                    out.onNext(IntakeMessage.newBuilder().setWelcome(welcome).build());
                    return;
                }
                EventBatch batch = message.getBatch();
                batchesReceived.incrementAndGet();
                long seq = batch.getBatchSeq();
                if (seq > holdAbove) {
                    agentsHeld.add(agent);
                    return;
                }
                int attempt = receipts.computeIfAbsent(key(agent, seq), k -> new AtomicInteger()).incrementAndGet();
                Set<Long> mine = persisted.computeIfAbsent(agent, a -> ConcurrentHashMap.newKeySet());
                if (mine.contains(seq)) {
                    resentAfterPersisted.incrementAndGet();
                    out.onNext(ack(seq, BatchAck.Status.DUPLICATE, 0));
                } else if (attempt == 1 && retryFirstAttempt.test(agent, seq)) {
                    out.onNext(ack(seq, BatchAck.Status.RETRY_LATER, 20));
                } else {
                    mine.add(seq);
                    if (killAfterPersisting.test(agent, seq) && killed.compareAndSet(false, true)) {
                        dead = true;
                        out.onError(Status.UNAVAILABLE.withDescription("fake intake killed the stream").asRuntimeException());
                        return;
                    }
                    out.onNext(ack(seq, BatchAck.Status.PERSISTED, 0));
                }
            }

            @Override
            public void onError(Throwable t) {
                dead = true;
            }

            @Override
            public void onCompleted() {
                if (!dead) {
                    out.onCompleted();
                }
            }
        };
    }

    private Welcome welcomeFor(String agent) {
        TreeSet<Long> mine = new TreeSet<>(persisted.getOrDefault(agent, Set.of()));
        long through = 0;
        while (mine.contains(through + 1)) {
            through++;
        }
        return Welcome.newBuilder().setPersistedThrough(through).addAllPersistedAbove(mine.tailSet(through + 1))
                .setIntakeNode("fake").build();
    }

    private static IntakeMessage ack(long seq, BatchAck.Status status, int retryAfterMs) {
        return IntakeMessage.newBuilder().setAck(BatchAck.newBuilder().setBatchSeq(seq).setStatus(status)
                .setRetryAfterMs(retryAfterMs)).build();
    }

    static String key(String agent, long seq) {
        return agent + " " + seq;
    }

    int receipts(String agent, long seq) {
        AtomicInteger n = receipts.get(key(agent, seq));
        return n == null ? 0 : n.get();
    }

    Set<Long> persisted(String agent) {
        return persisted.getOrDefault(agent, Set.of());
    }

    int resentAfterPersisted() {
        return resentAfterPersisted.get();
    }

    /** From now on, batches above {@code seq} get no answer until {@link #answerAll()}. */
    void holdAbove(long seq) {
        holdAbove = seq;
    }

    void answerAll() {
        holdAbove = Long.MAX_VALUE;
    }

    /** How many agents have a batch this intake took in and never answered. */
    int agentsHeld() {
        return agentsHeld.size();
    }

    int batchesReceived() {
        return batchesReceived.get();
    }

    boolean killed() {
        return killed.get();
    }

    List<Welcome> welcomes() {
        return welcomes;
    }
}
