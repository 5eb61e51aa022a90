package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -Dlongconv.threads is validated with a one-line error naming the property (the static initializer never throws). */
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
