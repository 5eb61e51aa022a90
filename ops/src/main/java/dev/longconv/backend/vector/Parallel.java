package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.HostTasks;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The one thread pool longconv's CPU kernels share; its size is {@code -Dlongconv.threads} (default: all processors),
 * and a worker that runs out of tasks watches for the next call's for {@code -Dlongconv.workerSpinMicros} (default
 * {@link #DEFAULT_SPIN_MICROS}) before it parks ({@link #waitForJobs}).
 */
final class Parallel {
    static final String THREADS_PROPERTY = "longconv.threads", SPIN_PROPERTY = "longconv.workerSpinMicros";
    /** The thread count, or 0 when a property is invalid ({@link #CONFIG_ERROR} says why, on every call). */
    private static final int THREADS;
    /** How long a worker out of tasks watches for the next call's ({@link #waitForJobs}). */
    static final long SPIN_NANOS;
    /** The invalid property and what is wrong with it, or nulls. */
    private static final String CONFIG_ARGUMENT, CONFIG_ERROR;
    /** One worker fewer than the thread count: the calling thread works too (see forEach). */
    private static final ForkJoinPool POOL;

    static {
        int threads = 0;
        long spin = 0;
        String error = null, argument = null;
        try {
            threads = threads(System.getProperty(THREADS_PROPERTY), Runtime.getRuntime().availableProcessors());
            spin = spinMicros(System.getProperty(SPIN_PROPERTY));
        } catch (LongConvException e) {
            argument = e.argument();
            error = e.problem();
        }
        THREADS = threads;
        SPIN_NANOS = spin * 1000;
        CONFIG_ARGUMENT = argument;
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
        return bounded(value, THREADS_PROPERTY, 1, 4096, def, "");
    }

    /** A property's integer in [min, max] ({@code unit} follows the range in the error), blank giving def. */
    private static int bounded(String value, String property, int min, int max, int def, String unit) {
        if (value == null || value.isBlank()) return def;
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            n = min - 1;
        }
        if (n < min || n > max) {
            throw new LongConvException("configuration", "-D" + property, "an integer from " + min + " to " + max + unit, "'" + value + "'");
        }
        return n;
    }

    /**
     * A worker's wait for the next call, in microseconds: a parked pool worker took 30-50 us to wake on the 2-vCPU
     * test machine (5 us when it had just finished), more than a task of a causal convolution at L = 1024 (8 tasks of
     * about 40 us), whose second core gained 1.13-1.7x; watching 200 us, it gained 1.8-2.3x (CausalConvBench,
     * vectorAllCores over vector). A layer's calls, and the kernels inside one, follow each other by less than that.
     */
    static final long DEFAULT_SPIN_MICROS = 200;

    /** The spin a property value asks for: blank is the default; otherwise an integer from 0 (park at once) to 1000000. */
    static long spinMicros(String value) {
        return bounded(value, SPIN_PROPERTY, 0, 1_000_000, (int) DEFAULT_SPIN_MICROS, " (microseconds)");
    }

    /** Threads a {@link #forEach} may use: the pool's workers and the caller. */
    static int size() {
        return threads();
    }

    /** The configured thread count; an invalid property's one-line error (threads or spin). */
    static int threads() {
        if (CONFIG_ERROR != null) throw new LongConvException("configuration", CONFIG_ARGUMENT, CONFIG_ERROR);
        return THREADS;
    }

    /**
     * Work below this many flops in all runs on the calling thread: handing tasks to a parked pool worker costs tens
     * of microseconds of wake-up, more than such work takes (OpsBench's small shapes: causal-conv at [1, 20, 256] with
     * 8 taps ran 10x slower through the pool than inline).
     */
    static final double MIN_PARALLEL_FLOPS = 2e6;

    /**
     * A layer's row work ({@link dev.longconv.ops.spi.HostTasks}) goes to the pool from this many flops in all while a
     * worker is watching for the next call ({@link #workersWatching}): the hand-off then costs no wake-up. The GEMM's
     * bound for the same case ({@link VectorGemm#WATCHED_MIN_MACS}, measured there), in flops.
     */
    static final double MIN_WATCHED_FLOPS = 2.0 * VectorGemm.WATCHED_MIN_MACS;

    /**
     * {@link #forEach(int, double, IntConsumer)} for a layer's row work: also to the pool from {@link
     * #MIN_WATCHED_FLOPS} while a worker is watching, as a layer's steps between its pool ops (a GTU's activations
     * between its GEMMs and its convolution) find one.
     */
    static void forEachRows(int tasks, double flopsPerTask, IntConsumer body) {
        if (tasks * flopsPerTask >= MIN_WATCHED_FLOPS && workersWatching()) forEach(tasks, body);
        else forEach(tasks, flopsPerTask, body);
    }

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

    /** Whether pool workers may touch the host memory of every given tensor (nulls and device tensors count as yes). */
    static boolean anyThread(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e) {
        return anyThread(a) && anyThread(b) && anyThread(c) && anyThread(d) && anyThread(e);
    }

    static boolean anyThread(Tensor t) {
        return HostTasks.anyThread(t);
    }

    /**
     * Runs body(i) for i in [0, tasks) on the pool (inline when there is one task or one thread, or when called from
     * inside another forEach's task: every thread is then busy with the outer tasks, and a nested hand-off would only
     * queue a helper behind them). The
     * calling thread takes tasks too, from the same counter as the workers: handing everything to the
     * pool and waiting cost a worker wake-up per call, which at L = 1024 (four blocks of 16 channels) ate
     * a third of the second core's gain. Task order is not fixed, so bodies must write disjoint outputs.
     */
    static void forEach(int tasks, IntConsumer body) {
        int helpers = Math.min(tasks, threads()) - 1;
        if (tasks <= 1 || helpers < 1 || IN_TASK.get()[0] > 0) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        Job job = new Job(body, tasks, helpers);
        int waiting = Math.min(helpers, WAITING.get());
        if (waiting > 0) OFFER.set(job);
        for (int h = waiting; h < helpers; h++) POOL.execute(job::helpAndWait);
        Throwable failure = null;
        try {
            job.drain();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        OFFER.compareAndSet(job, null);
        while (job.active.get() > 0) Thread.onSpinWait();
        Throwable other = job.failure;
        if (failure == null) failure = other;
        else if (other != null) failure.addSuppressed(other);
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
    }

    /**
     * Whether this thread is running a forEach task now: a forEach it calls runs its tasks inline, so an op that would
     * split its work for the pool should do it whole instead (a GEMM split in two inline runs packs its B twice).
     */
    static boolean inTask() {
        return IN_TASK.get()[0] > 0;
    }

    /** Per thread, how many forEach tasks it is running now (nested: a task's own forEach runs inline). */
    private static final ThreadLocal<int[]> IN_TASK = ThreadLocal.withInitial(() -> new int[1]);

    /** The job a caller offers to waiting workers ({@link #waitForJobs}); WAITING counts the workers watching for it. */
    private static final AtomicReference<Job> OFFER = new AtomicReference<>();
    private static final AtomicInteger WAITING = new AtomicInteger();
    /** Whether a pool worker is watching for the next call now ({@link #waitForJobs}): a task handed to it costs no wake-up. */
    static boolean workersWatching() {
        return WAITING.get() > 0;
    }

    /** Jobs a waiting worker took from the offer, for the tests. */
    static final AtomicLong OFFERS_TAKEN = new AtomicLong();

    /**
     * Run on a pool worker when it has finished its tasks: for SPIN_NANOS it watches the offer and helps any job posted
     * there (the watch starting again after each), then returns to the pool, which parks it when it has nothing else.
     * It leaves at once when the pool has submissions queued (a {@link Team}'s helpers, another caller's), so that
     * watching never delays work handed to the pool. A Team's helpers do not watch: the Team reuses a helper only once
     * the pool has finished it, and a watching helper would make it allocate a new one per call.
     */
    static void waitForJobs() {
        if (SPIN_NANOS == 0) return;
        WAITING.incrementAndGet();
        try {
            for (long end = System.nanoTime() + SPIN_NANOS; System.nanoTime() < end && !POOL.hasQueuedSubmissions(); ) {
                Job j = OFFER.get();
                if (j != null && j.seats.get() > 0 && j.seats.getAndDecrement() > 0) {
                    WAITING.decrementAndGet();
                    OFFERS_TAKEN.incrementAndGet();
                    j.help();
                    WAITING.incrementAndGet();
                    end = System.nanoTime() + SPIN_NANOS;
                }
                Thread.onSpinWait();
            }
        } finally {
            WAITING.decrementAndGet();
        }
    }

    /** One forEach call's tasks: a shared counter, the helpers taking tasks (active) and seats for more. */
    private static final class Job {
        final IntConsumer body;
        final int tasks;
        final AtomicInteger next = new AtomicInteger(), active = new AtomicInteger(), seats;
        volatile Throwable failure;

        Job(IntConsumer body, int tasks, int helpers) {
            this.body = body;
            this.tasks = tasks;
            this.seats = new AtomicInteger(helpers);
        }

        void drain() {
            int[] depth = IN_TASK.get();
            depth[0]++;
            try {
                for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i);
            } finally {
                depth[0]--;
            }
        }

        /**
         * A helper's share: counted in active before it takes a task, so the caller, once the counter is spent, waits
         * for exactly the helpers that may still be running one; a helper that comes late finds no task.
         */
        void help() {
            active.incrementAndGet();
            try {
                drain();
            } catch (RuntimeException | Error e) {
                failure = e;
            } finally {
                active.decrementAndGet();
            }
        }

        /** A pool task's share: help where a seat is left, then {@link #waitForJobs}. */
        void helpAndWait() {
            if (seats.getAndDecrement() > 0) help();
            waitForJobs();
        }
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
