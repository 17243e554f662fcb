package dev.holdfast.wal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class RoundRobinQueueTest {
    /** "agent:n" items; the key is the agent. */
    private static RoundRobinQueue<String> queue() {
        return new RoundRobinQueue<>(item -> item.substring(0, item.indexOf(':')));
    }

    private static List<String> drain(RoundRobinQueue<String> q) {
        List<String> out = new ArrayList<>();
        String item;
        while ((item = q.poll()) != null) {
            out.add(item);
        }
        return out;
    }

    @Test
    void aLateAgentIsServedAfterOneTurnNotAfterTheFlood() {
        RoundRobinQueue<String> q = queue();
        for (int i = 1; i <= 1000; i++) {
            q.add("flood:" + i);
        }
        q.add("canary:1");
        assertEquals(1001, q.size());
        assertEquals("flood:1", q.poll());
        assertEquals("canary:1", q.poll(), "the canary's turn comes right after the flood's first batch");
        assertEquals("flood:2", q.poll());
    }

    @Test
    void eachAgentKeepsItsOwnOrderAndTurnsAlternate() {
        RoundRobinQueue<String> q = queue();
        q.add("a:1");
        q.add("a:2");
        q.add("a:3");
        q.add("b:1");
        q.add("c:1");
        q.add("b:2");
        assertEquals(List.of("a:1", "b:1", "c:1", "a:2", "b:2", "a:3"), drain(q));
        assertEquals(0, q.size());
        assertTrue(q.isEmpty());
        // an agent whose queue emptied starts again at the back of the turns
        q.add("c:2");
        q.add("a:4");
        assertEquals(List.of("c:2", "a:4"), drain(q));
    }

    @Test
    void pollWaitsForAnItemAndTimesOutEmpty() throws Exception {
        RoundRobinQueue<String> q = queue();
        long t0 = System.nanoTime();
        assertNull(q.poll(50, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(50), "waited the timeout");

        CountDownLatch waiting = new CountDownLatch(1);
        AtomicReference<String> got = new AtomicReference<>();
        Thread taker = new Thread(() -> {
            waiting.countDown();
            try {
                got.set(q.poll(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        taker.start();
        waiting.await();
        q.add("late:1");
        taker.join(10_000);
        assertEquals("late:1", got.get());
    }

    @Test
    void closingWakesAWaitingTakerAndLeavesWhatIsQueuedToBeTaken() throws Exception {
        RoundRobinQueue<String> q = queue();
        AtomicReference<String> got = new AtomicReference<>("not returned");
        CountDownLatch waiting = new CountDownLatch(1);
        Thread taker = new Thread(() -> {
            try {
                waiting.countDown();
                got.set(q.poll(60, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        taker.start();
        waiting.await();
        Thread.sleep(100); // in its wait
        q.close();
        taker.join(10_000);
        assertFalse(taker.isAlive(), "the taker still waits after close");
        assertNull(got.get());

        q.add("a:1"); // a submit racing the close: its owner drains it
        assertEquals("a:1", q.poll(60, TimeUnit.SECONDS));
        assertNull(q.poll(60, TimeUnit.SECONDS), "closed and empty: no wait");
    }
}
