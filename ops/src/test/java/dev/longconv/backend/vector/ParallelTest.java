package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * -Dlongconv.threads and -Dlongconv.workerSpinMicros are validated with a one-line error naming the property (the
 * static initializer never throws); forEach and a Team run every task once per call, pass failures on, a pool
 * worker that has finished takes the next call's tasks from the offer without being handed a new pool task, and a
 * forEach inside a task stays on that task's thread.
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

    /** A way to run body(i) for i in [0, tasks): Parallel.forEach or a Team's forEach. */
    private interface Runner {
        void forEach(int tasks, IntConsumer body);
    }

    /** {@code calls} calls of runner with task counts around the thread count, each index hit exactly once per call. */
    private static void runsEveryTaskOnce(Runner runner, int calls) {
        for (int call = 0; call < calls; call++) {
            int tasks = call % 7;
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(tasks, 1));
            runner.forEach(tasks, i -> {
                if (i % 3 == 0) Thread.onSpinWait();
                hits.incrementAndGet(i);
            });
            for (int i = 0; i < tasks; i++) assertEquals(1, hits.get(i), "call " + call + " task " + i + " of " + tasks);
        }
    }

    /** A failure in any of four tasks reaches the caller, and the next call runs every task. */
    private static void passesOnFailuresAndGoesOn(Runner runner) {
        for (int bad = 0; bad < 4; bad++) {
            int failing = bad;
            var e = assertThrows(IllegalStateException.class, () -> runner.forEach(4, i -> {
                if (i == failing) throw new IllegalStateException("task " + i);
            }));
            assertEquals("task " + bad, e.getMessage());
            AtomicInteger sum = new AtomicInteger();
            runner.forEach(4, sum::addAndGet);
            assertEquals(6, sum.get());
        }
    }

    /** forEach runs every index exactly once on every call, from two callers at once. */
    @Test
    void forEachRunsEveryTaskOnceOnEveryCall() throws Exception {
        FutureTask<Void> other = new FutureTask<>(() -> runsEveryTaskOnce(Parallel::forEach, 3000), null);
        Thread t = new Thread(other);
        t.start();
        runsEveryTaskOnce(Parallel::forEach, 3000);
        other.get(); // rethrows the other caller's assertion failure
    }

    @Test
    void forEachPassesOnFailuresAndGoesOn() {
        passesOnFailuresAndGoesOn(Parallel::forEach);
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

    /**
     * A layer's row work ({@link Parallel#forEachRows}) below {@link Parallel#MIN_WATCHED_FLOPS} stays on the calling
     * thread even right after pool work (a worker watching); from that bound, and below the bound for a cold pool, a
     * watching worker takes some of it. Calls go on until a worker takes a task or 10 s have passed, as above.
     */
    @Test
    void rowWorkGoesToAWatchingWorkerFromItsBound() {
        assumeTrue(Parallel.threads() >= 2, "one thread: no pool worker to watch");
        assertTrue(Parallel.MIN_WATCHED_FLOPS < Parallel.MIN_PARALLEL_FLOPS);
        Thread own = Thread.currentThread();
        AtomicInteger strangers = new AtomicInteger();
        for (int call = 0; call < 200; call++) {
            Parallel.forEach(4, i -> spin(20_000));
            Parallel.forEachRows(2, Parallel.MIN_WATCHED_FLOPS / 2 - 1, i -> {
                if (Thread.currentThread() != own) strangers.incrementAndGet();
                spin(20_000);
            });
        }
        assertEquals(0, strangers.get(), "row work under the watched bound ran on a pool thread");
        long deadline = System.nanoTime() + 10_000_000_000L;
        int calls = 0;
        while (strangers.get() == 0 && System.nanoTime() < deadline) {
            Parallel.forEach(4, i -> spin(20_000));
            Parallel.forEachRows(2, Parallel.MIN_WATCHED_FLOPS / 2, i -> {
                if (Thread.currentThread() != own) strangers.incrementAndGet();
                spin(20_000);
            });
            calls++;
        }
        assertTrue(strangers.get() > 0, "no call of " + calls + " with row work at the watched bound handed a task to a watching worker");
    }

    private static void spin(long nanos) {
        for (long end = System.nanoTime() + nanos; System.nanoTime() < end; ) Thread.onSpinWait();
    }

    /**
     * A forEach inside a task runs every one of its tasks once, on the task's own thread: every thread is busy with the
     * outer tasks, and a nested hand-off (a TNO's positional encoder runs its GEMMs inside such tasks) would put a helper
     * in the pool's queue behind them. The outer call's second task ends at once, so without the rule its thread would
     * be free to take the nested tasks; 50 calls, 200 nested tasks of 2 µs each.
     */
    @Test
    void aForEachInsideATaskRunsOnThatTasksThread() {
        assumeTrue(Parallel.threads() >= 2, "one thread: every task runs on the caller anyway");
        for (int call = 0; call < 50; call++) {
            AtomicIntegerArray counts = new AtomicIntegerArray(200);
            AtomicInteger strangers = new AtomicInteger();
            Parallel.forEach(2, outer -> {
                if (outer == 1) return;
                Thread own = Thread.currentThread();
                Parallel.forEach(200, i -> {
                    if (Thread.currentThread() != own) strangers.incrementAndGet();
                    counts.incrementAndGet(i);
                    for (long end = System.nanoTime() + 2_000; System.nanoTime() < end; ) Thread.onSpinWait();
                });
            });
            for (int i = 0; i < 200; i++) assertEquals(1, counts.get(i), "call " + call + " nested task " + i);
            assertEquals(0, strangers.get(), "call " + call + ": nested tasks run on another thread");
        }
    }

    /** A team runs every index exactly once on every call, many calls in a row. */
    @Test
    void aTeamRunsEveryTaskOnceOnEveryCall() {
        runsEveryTaskOnce(new Parallel.Team()::forEach, 2000);
    }

    /** A failure in any task reaches the caller, and the team serves the next call. */
    @Test
    void aTeamPassesOnFailuresAndGoesOn() {
        passesOnFailuresAndGoesOn(new Parallel.Team()::forEach);
    }
}
