package dev.longconv.ops.spi;

import dev.longconv.ops.Reference;

/**
 * Row t of the ski interpolation matrix W, in the two-non-zero form kernels use: weight 1 - frac[t]
 * on inducing point seg[t] and frac[t] on seg[t] + 1 (frac in [0, 1]). Same matrix as
 * the dense matrix of {@code dev.longconv.ops.Reference#interpolationMatrix}; with L = 1 row 0 is e_0.
 */
public record SkiGrid(int[] seg, double[] frac) {
    public static SkiGrid of(int len, int r) {
        int[] seg = new int[len];
        double[] frac = new double[len];
        if (len > 1) {
            double h = (double) (len - 1) / (r - 1);
            for (int t = 0; t < len; t++) {
                int i = Math.min((int) ((long) t * (r - 1) / (len - 1)), r - 2);
                seg[t] = i;
                frac[t] = (t - inducingPoint(i, len, r)) / h;
            }
        }
        return new SkiGrid(seg, frac);
    }

    /**
     * Inducing point p_i = i (L-1)/(r-1), from the exact integer product so that p_0 = 0 and p_{r-1} = L-1
     * exactly. The geometry every ski implementation and the reference share.
     */
    public static double inducingPoint(int i, int len, int r) {
        return (double) ((long) i * (len - 1)) / (r - 1);
    }
}
