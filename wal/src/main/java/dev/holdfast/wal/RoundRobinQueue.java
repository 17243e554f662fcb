package dev.holdfast.wal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The writer's queue of batches: first in, first out within each agent, and round robin between agents. A flood of
 * batches from some agents (tens of MiB queued behind the disk) therefore delays another agent's batch by one turn of
 * the agents that have batches waiting, not by the whole flood. Each agent's own order is kept, which the writer
 * needs: a resent batch is answered DUPLICATE only after the original it follows.
 *
 * <p>Turns are per batch, not per byte: what a well-behaved agent waits for is bounded by the number of agents with
 * batches waiting (times their batch size, at most {@code limits.maxBatchBytes}), and everything queued is bounded by
 * the intake's in-flight byte limit.
 */
final class RoundRobinQueue<T> {
    private final Function<T, String> keyOf;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    /** Only keys with something queued; a key is removed when its queue empties, so idle agents cost nothing. */
    private final Map<String, ArrayDeque<T>> byKey = new HashMap<>();
    /** Keys in turn order; each key with something queued is in it exactly once. */
    private final ArrayDeque<String> turns = new ArrayDeque<>();
    private int size;
    private boolean closed;

    RoundRobinQueue(Function<T, String> keyOf) {
        this.keyOf = keyOf;
    }

    void add(T item) {
        String key = keyOf.apply(item);
        lock.lock();
        try {
            ArrayDeque<T> queue = byKey.get(key);
            if (queue == null) {
                queue = new ArrayDeque<>();
                byKey.put(key, queue);
                turns.addLast(key);
            }
            queue.addLast(item);
            size++;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The next item in turn, or null when nothing is queued. */
    T poll() {
        lock.lock();
        try {
            return next();
        } finally {
            lock.unlock();
        }
    }

    /** The next item in turn, waiting up to {@code timeout} for one; null if none came, or at once once closed. */
    T poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (size == 0) {
                if (nanos <= 0 || closed) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return next();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes a waiting taker and keeps it from waiting again: what is queued can still be taken, and added (a closing
     * owner drains it).
     */
    void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        return size() == 0;
    }

    private T next() {
        String key = turns.pollFirst();
        if (key == null) {
            return null;
        }
        ArrayDeque<T> queue = byKey.get(key);
        T item = queue.pollFirst();
        if (queue.isEmpty()) {
            byKey.remove(key);
        } else {
            turns.addLast(key); // the rest of its batches wait for their next turn
        }
        size--;
        return item;
    }
}
