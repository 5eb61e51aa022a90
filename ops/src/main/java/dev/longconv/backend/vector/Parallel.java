package dev.longconv.backend.vector;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** The one thread pool longconv's CPU kernels share; its size is {@code -Dlongconv.threads} (default: all processors). */
final class Parallel {
    static final String THREADS_PROPERTY = "longconv.threads";
    private static final int THREADS = threads();
    /** One worker fewer than the thread count: the calling thread works too (see forEach). */
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS - 1));

    private Parallel() {}

    /** Threads a {@link #forEach} may use: the pool's workers and the caller. */
    static int size() {
        return THREADS;
    }

    static int threads() {
        int def = Runtime.getRuntime().availableProcessors();
        String p = System.getProperty(THREADS_PROPERTY);
        if (p == null || p.isBlank()) return def;
        try {
            return Math.max(1, Integer.parseInt(p.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + THREADS_PROPERTY + "=" + p + " is not a positive integer");
        }
    }

    /**
     * Runs body(i) for i in [0, tasks) on the pool (inline when there is one task or one thread). The
     * calling thread takes tasks too, from the same counter as the workers: handing everything to the
     * pool and waiting cost a worker wake-up per call, which at L = 1024 (four blocks of 16 channels) ate
     * a third of the second core's gain. Task order is not fixed, so bodies must write disjoint outputs.
     */
    static void forEach(int tasks, IntConsumer body) {
        int helpers = Math.min(tasks, THREADS) - 1;
        if (tasks <= 1 || helpers < 1) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i);
        };
        ForkJoinTask<?>[] started = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) started[h] = POOL.submit(drain);
        Throwable failure = null;
        try {
            drain.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (ForkJoinTask<?> t : started) {
            try {
                t.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
    }
}
