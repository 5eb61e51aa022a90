package dev.longconv.backend.vector;

import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.Plans;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.Lanes;

/**
 * Turns a float32 {@link ConvProblem} into a {@link LanePlan}: the direct sum where it costs less than the
 * FFT at the smallest fast size that keeps the wanted outputs free of wrap-around, else that FFT. The choice
 * is a function of the sizes alone; {@link Path} forces one side (benchmarks measure the crossover with it).
 */
final class VectorPlanner {
    private VectorPlanner() {}

    /**
     * Direct when L * taps <= C * N log2 N. C is measured, not derived: ConvPathBench (B=1, D=64, float32, one
     * thread) forces both paths, and C sits where they cross (README, Benchmarks, the ConvPathBench tables). The flop count alone (C of
     * about 2.6) switches to the FFT too early.
     */
    static final double DIRECT_COST_RATIO = 4.5;

    /**
     * C for the row direct sum ({@link RowDirectPlan}, BDL), which skips the lane plan's gather and scatter: 3.4-5.7x
     * faster than the lane direct sum at 8-128 taps, it crosses the FFT near 300 taps at L = 1024 and 200-250 at
     * L = 8192 (ConvPathBench -p taps=64..384, AVX2), C of 8 to 14; the lower end is taken.
     */
    static final double ROW_DIRECT_COST_RATIO = 8.0;

    static boolean directIsCheaper(int outputs, int taps, int n) {
        return directIsCheaper(outputs, taps, n, DIRECT_COST_RATIO);
    }

    static boolean directIsCheaper(int outputs, int taps, int n, double ratio) {
        return (double) outputs * taps <= ratio * n * (Math.log(n) / Math.log(2));
    }

    /** The FFT size a plan for {@code problem} would transform at: the smallest fast size free of wrap-around. */
    static int fftSize(ConvProblem problem) {
        LaneIO.requireSteps(problem.op(), "x", 2 * problem.aliasFreeSize());
        return LaneFft.sizeFor((int) problem.aliasFreeSize());
    }

    /**
     * A problem with fewer channels than lanes fills only part of each vector, so its lane buffers waste W / D of their
     * memory: past this many bytes of them such problems run on the scalar backend, whose rows hold one channel each
     * (float64 arithmetic, about W / (2 D) times the memory less).
     */
    static final long SPARSE_LANES_MAX_BYTES = 256L << 20;

    /** Whether {@code problem} leaves lanes empty and would need more than {@link #SPARSE_LANES_MAX_BYTES} of lane buffers. */
    static boolean lanesTooSparse(ConvProblem problem) {
        if (problem.channels() >= Lanes.W) return false;
        return 4L * Lanes.W * (3L * problem.aliasFreeSize()) > SPARSE_LANES_MAX_BYTES;
    }

    /** The plan of float32 kernel k (already checked against {@code problem}) on {@code path}. */
    static ConvPlan plan(ConvProblem problem, Tensor k, VectorBackend.Path path) {
        return plan(problem, k, path, false);
    }

    /** As {@link #plan(ConvProblem, Tensor, VectorBackend.Path)}; {@code singleUse}: see {@link LaneFftPlan}. */
    static ConvPlan plan(ConvProblem problem, Tensor k, VectorBackend.Path path, boolean singleUse) {
        int n = fftSize(problem);
        boolean direct = switch (path) {
            case AUTO -> directIsCheaper(problem.firstOutput() + problem.length(), problem.effectiveTaps(), n,
                    RowDirectPlan.fits(problem) ? ROW_DIRECT_COST_RATIO : DIRECT_COST_RATIO);
            case DIRECT -> true;
            case FFT -> false;
        };
        long blocks = (problem.channels() + Lanes.W - 1) / Lanes.W, span = (long) problem.firstOutput() + problem.length();
        long perThread = 3 * span * Lanes.W * 4L * Parallel.threads();
        long prepared = direct ? blocks * problem.effectiveTaps() * Lanes.W * 4L : blocks * (n + 2L) * Lanes.W * 4L + blocks * problem.effectiveTaps() * Lanes.W * 4L;
        Plans.requireHeap(problem.op(), "the plan's working memory (" + (direct ? "packed taps" : "kernel spectra at N=" + n) + " and per-thread buffers)",
                prepared + perThread + (direct ? 0 : 2L * n * Lanes.W * 4 * Parallel.threads()));
        if (direct && RowDirectPlan.fits(problem)) return new RowDirectPlan(problem, k);
        return direct ? new LaneDirectPlan(problem, k) : new LaneFftPlan(problem, k, n, singleUse);
    }
}
