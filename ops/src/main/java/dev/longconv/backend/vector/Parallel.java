package dev.longconv.backend.vector;

import dev.longconv.Device;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** The one thread pool longconv's CPU kernels share; its size is {@code -Dlongconv.threads} (default: all processors). */
final class Parallel {
    static final String THREADS_PROPERTY = "longconv.threads";
    /** The thread count, or 0 when the property is invalid ({@link #CONFIG_ERROR} says why, on every call). */
    private static final int THREADS;
    private static final String CONFIG_ERROR;
    /** One worker fewer than the thread count: the calling thread works too (see forEach). */
    private static final ForkJoinPool POOL;

    static {
        int threads = 0;
        String error = null;
        try {
            threads = threads(System.getProperty(THREADS_PROPERTY), Runtime.getRuntime().availableProcessors());
        } catch (LongConvException e) {
            error = e.problem();
        }
        THREADS = threads;
        CONFIG_ERROR = error;
        POOL = new ForkJoinPool(Math.max(1, threads - 1));
    }

    private Parallel() {}

    /**
     * The thread count a property value asks for: blank is {@code def}; otherwise an integer from 1 to 4096, or a
     * LongConvException naming the property. Checked once, at class initialization, and reported on every call that
     * needs the pool (a failing static initializer would report it once, then leave NoClassDefFoundError).
     */
    static int threads(String value, int def) {
        if (value == null || value.isBlank()) return def;
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > 4096) {
            throw new LongConvException("configuration", "-D" + THREADS_PROPERTY, "an integer from 1 to 4096", "'" + value + "'");
        }
        return n;
    }

    /** Threads a {@link #forEach} may use: the pool's workers and the caller. */
    static int size() {
        return threads();
    }

    /** The configured thread count; the property's one-line error when it is invalid. */
    static int threads() {
        if (CONFIG_ERROR != null) throw new LongConvException("configuration", "-D" + THREADS_PROPERTY, CONFIG_ERROR);
        return THREADS;
    }

    /**
     * Work below this many flops in all runs on the calling thread: handing tasks to a parked pool worker costs tens
     * of microseconds of wake-up, more than such work takes (OpsBench's small shapes: causal-conv at [1, 20, 256] with
     * 8 taps ran 10x slower through the pool than inline).
     */
    static final double MIN_PARALLEL_FLOPS = 2e6;

    /** {@link #forEach(int, IntConsumer)} when the tasks' estimated work is worth the pool, else a plain loop on this thread. */
    static void forEach(int tasks, double flopsPerTask, IntConsumer body) {
        forEach(tasks, flopsPerTask, true, body);
    }

    /**
     * As {@link #forEach(int, double, IntConsumer)}, on this thread alone unless {@code anyThread}: the tasks touch
     * memory only its owner thread may (a confined arena's), which a pool worker would get a WrongThreadException for.
     */
    static void forEach(int tasks, double flopsPerTask, boolean anyThread, IntConsumer body) {
        if (!anyThread || tasks * flopsPerTask < MIN_PARALLEL_FLOPS) {
            threads();
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        forEach(tasks, body);
    }

    /** A thread that never runs: a segment it may access is one every thread may access (not confined to its owner). */
    private static final Thread STRANGER = new Thread(() -> {});

    /** Whether pool workers may touch the host memory of every given tensor (nulls and device tensors count as yes). */
    static boolean anyThread(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e) {
        return anyThread(a) && anyThread(b) && anyThread(c) && anyThread(d) && anyThread(e);
    }

    static boolean anyThread(Tensor t) {
        return t == null || !t.device().equals(Device.CPU) || t.storageSegment().isAccessibleBy(STRANGER);
    }

    /**
     * Runs body(i) for i in [0, tasks) on the pool (inline when there is one task or one thread). The
     * calling thread takes tasks too, from the same counter as the workers: handing everything to the
     * pool and waiting cost a worker wake-up per call, which at L = 1024 (four blocks of 16 channels) ate
     * a third of the second core's gain. Task order is not fixed, so bodies must write disjoint outputs.
     */
    static void forEach(int tasks, IntConsumer body) {
        int helpers = Math.min(tasks, threads()) - 1;
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

    /**
     * {@link #forEach(int, IntConsumer)} for a hot path that must not allocate (a stream's step): its helper tasks are
     * made once and forked again on every call, and the caller, after taking tasks from the shared counter as in
     * forEach, waits for the helpers that started by spinning on a counter; a helper the pool has not started yet is
     * claimed by the caller (it then returns at once when it runs). Not for concurrent use: one call at a time, as a
     * stream's owner makes them.
     */
    static final class Team {
        private Helper[] helpers = new Helper[0];
        private final AtomicInteger next = new AtomicInteger(), running = new AtomicInteger();
        private IntConsumer body;
        private int tasks;
        private volatile Throwable helperFailure;

        void forEach(int tasks, IntConsumer body) {
            int count = Math.min(tasks, threads()) - 1;
            if (tasks <= 1 || count < 1) {
                for (int i = 0; i < tasks; i++) body.accept(i);
                return;
            }
            if (helpers.length < count) helpers = Arrays.copyOf(helpers, count);
            this.body = body;
            this.tasks = tasks;
            next.set(0);
            helperFailure = null;
            running.set(count);
            for (int h = 0; h < count; h++) {
                // a helper an earlier call claimed before the pool ran it may still sit in the queue: replace it (rare)
                if (helpers[h] == null || !helpers[h].isDone()) helpers[h] = new Helper();
                else helpers[h].reinitialize();
                helpers[h].claimed.set(false);
                POOL.execute(helpers[h]);
            }
            Throwable failure = null;
            try {
                drain();
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            for (int h = 0; h < count; h++) if (helpers[h].claimed.compareAndSet(false, true)) running.decrementAndGet();
            while (running.get() > 0) Thread.onSpinWait();
            this.body = null;
            Throwable other = helperFailure;
            if (failure == null) failure = other;
            else if (other != null) failure.addSuppressed(other);
            if (failure instanceof RuntimeException re) throw re;
            if (failure instanceof Error er) throw er;
        }

        private void drain() {
            IntConsumer b = body;
            int n = tasks;
            for (int i; (i = next.getAndIncrement()) < n; ) b.accept(i);
        }

        private final class Helper extends RecursiveAction {
            final AtomicBoolean claimed = new AtomicBoolean();

            @Override
            protected void compute() {
                if (!claimed.compareAndSet(false, true)) return;
                try {
                    drain();
                } catch (RuntimeException | Error e) {
                    helperFailure = e;
                } finally {
                    running.decrementAndGet();
                }
            }
        }
    }
}
