package dev.longconv.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** The one thread pool longconv's CPU kernels share; its size is {@code -Dlongconv.threads} (default: all processors). */
final class Parallel {
    static final String THREADS_PROPERTY = "longconv.threads";
    private static final ForkJoinPool POOL = new ForkJoinPool(threads());

    private Parallel() {}

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

    /** Runs body(i) for i in [0, tasks) on the pool (inline when there is one task or one thread). */
    static void forEach(int tasks, IntConsumer body) {
        if (tasks <= 1 || POOL.getParallelism() == 1) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        POOL.submit(() -> IntStream.range(0, tasks).parallel().forEach(body)).join();
    }
}
