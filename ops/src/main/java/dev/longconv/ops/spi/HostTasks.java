package dev.longconv.ops.spi;

import dev.longconv.Device;
import dev.longconv.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * A backend whose host work runs on a pool of threads offers the pool to the layers' own row work through this
 * interface (the vector backend does; the scalar backend does not, and layers then run such work on the caller's
 * thread). A layer splits rows that are independent from end to end (a TNO's positional encoder: norm, activation and
 * Linear per row) into one task per thread, so that the steps between its GEMMs run on every core and the threads meet
 * once instead of at each GEMM. A backend op called from inside a task runs on that task's thread.
 */
public interface HostTasks {
    /** The threads the pool's tasks may run on, the caller included. */
    int hostThreads();

    /**
     * Runs body(i) for i in [0, tasks) on the pool when tasks * flopsPerTask is worth a hand-off (less work is, while a
     * worker is watching for the next call), else on this thread;
     * in any order, so the tasks must write disjoint outputs. Memory the tasks touch must be readable by any thread
     * ({@link #anyThread}). The first failure is rethrown after every started task has finished.
     */
    void forEachHostTask(int tasks, double flopsPerTask, IntConsumer body);

    /** Whether every thread may touch the memory of {@code s} (a null segment counts as yes; a confined arena's does not). */
    static boolean anyThread(MemorySegment s) {
        return s == null || s.isAccessibleBy(Stranger.THREAD);
    }

    /** Whether every thread may touch {@code t}'s host memory (a null or device tensor counts as yes; a confined arena's does not). */
    static boolean anyThread(Tensor t) {
        return t == null || !t.device().equals(Device.CPU) || anyThread(t.storageSegment());
    }
}

/** Kept out of the interface, whose fields would be public: a thread no one may start. */
final class Stranger {
    private Stranger() {}

    /** A thread that never runs: a segment it may access is one every thread may access. */
    static final Thread THREAD = new Thread(() -> {});
}
