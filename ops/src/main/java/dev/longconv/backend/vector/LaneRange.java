package dev.longconv.backend.vector;

import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;

/**
 * Keeps float32 FFT convolutions within what the definition gives: sums inside a transform grow to about n^2 times
 * max|x| times max|k|, so large but representable inputs would overflow to Inf and NaN, and one non-finite input
 * spreads through the transform to every output, also to those it does not reach by definition. Before a transform,
 * each lane's largest |x| is measured: finite and in range runs the plain FFT; finite but large runs it on x scaled
 * by a power of two per lane (exact) and unscales the result; a non-finite lane sends the block to the direct sum,
 * which is the definition. Kernels are normalized the same way when planned (see {@link #kernelScale}).
 */
final class LaneRange {
    private LaneRange() {}

    private static final int W = Lanes.W;

    /** Bound on n^2 max|x| max|k| under which no float32 sum in a transform of size n can overflow (float max 3.4e38). */
    static final double SAFE = 1e36;
    /** A kernel lane whose n max|k| exceeds this is normalized when planned, so that inputs up to SAFE / (n 1e18) need no scaling. */
    static final double KERNEL_SAFE = 1e18;

    enum Path { PLAIN, SCALED, DIRECT }

    /**
     * How to transform {@code count} gathered lanes in {@code x} at FFT size n against a kernel whose largest |k| is
     * {@code kMax}; leaves the per-lane factors for SCALED in {@code factor} and their inverses in {@code inverse}
     * (W floats each, {@code m} is W floats of scratch, or where {@code measured} the lanes' largest |x| already,
     * measured as they were gathered).
     */
    static Path choose(float[] x, int count, double kMax, int n, float[] m, float[] factor, float[] inverse, boolean measured) {
        if (!measured) LaneKernels.maxAbs(x, count, m);
        double worst = 0;
        for (int l = 0; l < W; l++) {
            if (!Float.isFinite(m[l])) return Path.DIRECT;
            worst = Math.max(worst, m[l]);
        }
        if ((double) n * n * worst * kMax <= SAFE) return Path.PLAIN;
        for (int l = 0; l < W; l++) {
            int e = m[l] == 0 ? 0 : Math.getExponent(m[l]);
            factor[l] = Math.scalb(1f, -e);
            inverse[l] = Math.scalb(1f, e);
        }
        return Path.SCALED;
    }

    /** Each lane's largest |k| over {@code count} lane-packed taps (W floats): what {@link #kernelScale} and {@link #kernelMax} read. */
    static float[] laneMax(float[] taps, int count) {
        float[] m = new float[W];
        LaneKernels.maxAbs(taps, count, m);
        return m;
    }

    /**
     * The per-lane power of two that brings a kernel lane's largest |k| ({@code m}, from {@link #laneMax}) near 1, or
     * null when no lane needs it ({@code n max|k| <= KERNEL_SAFE}).
     */
    static float[] kernelScale(float[] m, int n) {
        boolean need = false;
        for (int l = 0; l < W; l++) need |= Float.isFinite(m[l]) && (double) n * m[l] > KERNEL_SAFE;
        if (!need) return null;
        float[] s = new float[W];
        for (int l = 0; l < W; l++) s[l] = m[l] == 0 || !Float.isFinite(m[l]) ? 1f : Math.scalb(1f, -Math.getExponent(m[l]));
        return s;
    }

    /**
     * The largest finite |k| over all lanes of a kernel whose lane maxima are {@code m}, each lane scaled by {@code
     * scale} (null: none). The scales are powers of two, so m times the scale is exactly the largest scaled tap: one
     * scan of the taps serves both this and {@link #kernelScale}.
     */
    static double kernelMax(float[] m, float[] scale) {
        double worst = 0;
        for (int l = 0; l < W; l++) if (Float.isFinite(m[l])) worst = Math.max(worst, m[l] * (scale == null ? 1 : scale[l]));
        return worst;
    }
}
