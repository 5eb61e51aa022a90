package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * -Dlongconv.threads and -Dlongconv.workerSpinMicros are validated with a one-line error naming the property (the
 * static initializer never throws); forEach and a Team run every task once per call, pass failures on, and a pool
 * worker that has finished takes the next call's tasks from the offer without being handed a new pool task.
 */
class ParallelTest {
    @Test
    void threadCountsAreValidated() {
        assertEquals(2, Parallel.threads(null, 2));
        assertEquals(2, Parallel.threads(" ", 2));
        assertEquals(3, Parallel.threads(" 3 ", 2));
        for (String bad : new String[] {"abc", "0", "-1", "1e3", "100000"}) {
            var e = assertThrows(LongConvException.class, () -> Parallel.threads(bad, 2), bad);
            assertTrue(e.getMessage().contains("-Dlongconv.threads") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void spinTimesAreValidated() {
        assertEquals(Parallel.DEFAULT_SPIN_MICROS, Parallel.spinMicros(null));
        assertEquals(Parallel.DEFAULT_SPIN_MICROS, Parallel.spinMicros(""));
        assertEquals(0, Parallel.spinMicros("0"));
        assertEquals(1_000_000, Parallel.spinMicros(" 1000000 "));
        for (String bad : new String[] {"abc", "-1", "1000001", "2.5"}) {
            var e = assertThrows(LongConvException.class, () -> Parallel.spinMicros(bad), bad);
            assertTrue(e.getMessage().contains("-Dlongconv.workerSpinMicros") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    /** forEach runs every index exactly once on every call, from two callers at once, with task counts around the thread count. */
    @Test
    void forEachRunsEveryTaskOnceOnEveryCall() throws Exception {
        Runnable calls = () -> {
            for (int call = 0; call < 3000; call++) {
                int tasks = call % 7;
                java.util.concurrent.atomic.AtomicIntegerArray hits = new java.util.concurrent.atomic.AtomicIntegerArray(Math.max(tasks, 1));
                Parallel.forEach(tasks, i -> {
                    if (i % 3 == 0) Thread.onSpinWait();
                    hits.incrementAndGet(i);
                });
                for (int i = 0; i < tasks; i++) assertEquals(1, hits.get(i), "call " + call + " task " + i + " of " + tasks);
            }
        };
        java.util.concurrent.FutureTask<Void> other = new java.util.concurrent.FutureTask<>(calls, null);
        Thread t = new Thread(other);
        t.start();
        calls.run();
        other.get(); // rethrows the other caller's assertion failure
    }

    /** A failure in any task of forEach reaches the caller, and the next call runs every task. */
    @Test
    void forEachPassesOnFailuresAndGoesOn() {
        for (int bad = 0; bad < 4; bad++) {
            int failing = bad;
            var e = assertThrows(IllegalStateException.class, () -> Parallel.forEach(4, i -> {
                if (i == failing) throw new IllegalStateException("task " + i);
            }));
            assertEquals("task " + bad, e.getMessage());
            java.util.concurrent.atomic.AtomicInteger sum = new java.util.concurrent.atomic.AtomicInteger();
            Parallel.forEach(4, sum::addAndGet);
            assertEquals(6, sum.get());
        }
    }

    /**
     * Calls that follow each other find a worker still watching from the call before and offer it their tasks: without
     * the watch every call handed the pool a new task and the worker woke from park for it (tens of microseconds).
     * Calls go on until one is taken or 10 s have passed: on a loaded machine the worker may get no core for a while
     * (300 calls, 24 ms, once went by untaken while another JVM kept both cores busy).
     */
    @Test
    void aWorkerThatFinishedTakesTheNextCallsTasks() {
        assumeTrue(Parallel.threads() >= 2, "one thread: no pool worker to watch");
        long before = Parallel.OFFERS_TAKEN.get(), deadline = System.nanoTime() + 10_000_000_000L;
        int calls = 0;
        while (Parallel.OFFERS_TAKEN.get() == before && System.nanoTime() < deadline) {
            Parallel.forEach(4, i -> {
                for (long end = System.nanoTime() + 20_000; System.nanoTime() < end; ) Thread.onSpinWait();
            });
            calls++;
        }
        assertTrue(Parallel.OFFERS_TAKEN.get() > before, "no call of " + calls + " back to back in 10 s was taken by a watching worker");
    }

    /** A team runs every index exactly once on every call, many calls in a row, with task counts around the thread count. */
    @Test
    void aTeamRunsEveryTaskOnceOnEveryCall() {
        Parallel.Team team = new Parallel.Team();
        for (int call = 0; call < 2000; call++) {
            int tasks = call % 7;
            java.util.concurrent.atomic.AtomicIntegerArray hits = new java.util.concurrent.atomic.AtomicIntegerArray(Math.max(tasks, 1));
            team.forEach(tasks, i -> {
                if (i % 3 == 0) Thread.onSpinWait();
                hits.incrementAndGet(i);
            });
            for (int i = 0; i < tasks; i++) assertEquals(1, hits.get(i), "call " + call + " task " + i + " of " + tasks);
        }
    }

    /** A failure in any task reaches the caller, and the team serves the next call. */
    @Test
    void aTeamPassesOnFailuresAndGoesOn() {
        Parallel.Team team = new Parallel.Team();
        for (int bad = 0; bad < 4; bad++) {
            int failing = bad;
            var e = assertThrows(IllegalStateException.class, () -> team.forEach(4, i -> {
                if (i == failing) throw new IllegalStateException("task " + i);
            }));
            assertEquals("task " + bad, e.getMessage());
            java.util.concurrent.atomic.AtomicInteger sum = new java.util.concurrent.atomic.AtomicInteger();
            team.forEach(4, sum::addAndGet);
            assertEquals(6, sum.get());
        }
    }
}
