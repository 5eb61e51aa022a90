package dev.longconv.backend.vector;

import dev.longconv.Tensor;
import dev.longconv.ops.ConvProblem;
import dev.longconv.simd.LaneFft;

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

    static boolean directIsCheaper(int outputs, int taps, int n) {
        return (double) outputs * taps <= DIRECT_COST_RATIO * n * (Math.log(n) / Math.log(2));
    }

    /** The FFT size a plan for {@code problem} would transform at: the smallest fast size free of wrap-around. */
    static int fftSize(ConvProblem problem) {
        LaneIO.requireSteps(problem.op(), "x", 2 * problem.aliasFreeSize());
        return LaneFft.sizeFor((int) problem.aliasFreeSize());
    }

    /** The plan of float32 kernel k (already checked against {@code problem}) on {@code path}. */
    static LanePlan plan(ConvProblem problem, Tensor k, VectorBackend.Path path) {
        int n = fftSize(problem);
        boolean direct = switch (path) {
            case AUTO -> directIsCheaper(problem.firstOutput() + problem.length(), problem.effectiveTaps(), n);
            case DIRECT -> true;
            case FFT -> false;
        };
        return direct ? new LaneDirectPlan(problem, k) : new LaneFftPlan(problem, k, n);
    }
}
