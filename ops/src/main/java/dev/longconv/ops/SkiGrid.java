package dev.longconv.ops;

/**
 * Row t of the ski interpolation matrix W, in the two-non-zero form kernels use: weight 1 - frac[t]
 * on inducing point seg[t] and frac[t] on seg[t] + 1 (frac in [0, 1]). Same matrix as
 * {@link Reference#interpolationMatrix}; with L = 1 row 0 is e_0.
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
                frac[t] = (t - Reference.inducingPoint(i, len, r)) / h;
            }
        }
        return new SkiGrid(seg, frac);
    }
}
