package dev.longconv.stress;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.TestBackends;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a tensor while ops use it, and closing it from many threads at once: the op either completes or fails with
 * IllegalStateException, the caller's interrupt flag stays clear (a later file write works), and close stays
 * idempotent (no exception from concurrent closes).
 */
@Tag("stress")
class CloseRaceTest {
    @TempDir
    Path dir;

    @Test
    void closingDuringAnOpFailsCleanlyAndLeavesNoInterrupt() throws Exception {
        for (Backend be : TestBackends.cpu()) {
            for (int round = 0; round < 20; round++) {
                int d = 32, len = 1 << 14; // large enough for shared-arena storage and the pool
                Tensor x = Tensor.random(DType.FLOAT32, round, 1, d, len);
                try (Tensor k = Tensor.random(DType.FLOAT32, 2, d, 64); Tensor y = Tensor.zeros(DType.FLOAT32, 1, d, len);
                     ConvPlan plan = be.causalConvPlan(k, len, Layout.BDL)) {
                    CountDownLatch started = new CountDownLatch(1);
                    Thread closer = new Thread(() -> {
                        try {
                            started.await();
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        x.close();
                    });
                    closer.start();
                    started.countDown();
                    for (int i = 0; i < 50; i++) {
                        try {
                            plan.applyInto(x, y);
                        } catch (IllegalStateException | IllegalArgumentException expected) {
                            break; // closed under the op, or before it: either is a clean failure
                        }
                    }
                    closer.join();
                    assertFalse(Thread.interrupted(), be.name() + " round " + round + ": the interrupt flag was left set");
                    Npy.save(y, dir.resolve("after.npy")); // would fail with ClosedByInterruptException
                }
            }
        }
    }

    @Test
    void concurrentClosesAreIdempotent() throws Exception {
        for (int round = 0; round < 2000; round++) {
            Tensor t = Tensor.zeros(DType.FLOAT32, round % 2 == 0 ? 16 : 1 << 17); // small (collector-freed) and large (shared arena)
            AtomicInteger failures = new AtomicInteger();
            Thread[] closers = new Thread[4];
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < closers.length; i++) {
                closers[i] = new Thread(() -> {
                    try {
                        go.await();
                        t.close();
                    } catch (RuntimeException | InterruptedException e) {
                        failures.incrementAndGet();
                    }
                });
                closers[i].start();
            }
            go.countDown();
            for (Thread c : closers) c.join();
            assertEquals(0, failures.get(), "round " + round);
            assertTrue(!t.isAlive());
        }
    }
}
