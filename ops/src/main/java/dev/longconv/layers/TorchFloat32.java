package dev.longconv.layers;

/**
 * Values that PyTorch computes in float32 inside an upstream model's forward pass, reproduced bit for bit
 * so that a float64 run of the same weights agrees with upstream to rounding (positions and grids are
 * inputs of an MLP or of an interpolation: one float32 ulp there moves the output by about 1e-7).
 */
final class TorchFloat32 {
    /**
     * Lanes of the vectorized loop of torch's CPU linspace kernel: 8 floats in the AVX2 build that
     * torch's CPU dispatch selects by default (Debian's 1.13 reports "CPU capability usage: AVX2").
     */
    static final int LINSPACE_LANES = 8;

    private TorchFloat32() {}

    /**
     * {@code torch.linspace(start, end, steps)} in float32 (the default dtype), as its CPU kernel computes
     * it: step = (end - start) / (steps - 1) in float; the first ⌊steps / (2W)⌋·2W values in vectors of W
     * lanes, each vector from a base (start + step·i below steps/2, end - step·(steps-1-i) from there on,
     * one fused multiply-add) plus lane·step (a rounded product, then a rounded sum); the rest one by one,
     * each a fused multiply-add from the same end. Verified equal, value for value, to torch 1.13's output
     * for steps 2..8193 over [0, π], [0, n] and [0, 1].
     *
     * @param lanes W; 1 gives the scalar path alone
     */
    static double[] linspace(double start, double end, int steps, int lanes) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        float s = (float) start, e = (float) end;
        double[] out = new double[steps];
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (float) (steps - 1);
        int half = steps / 2;
        int vectorized = lanes > 1 ? steps / (2 * lanes) * (2 * lanes) : 0;
        for (int i = 0; i < vectorized; i += lanes) {
            float base = i < half ? fma(step, i, s) : fma(-step, steps - i - 1, e);
            for (int lane = 0; lane < lanes; lane++) out[i + lane] = base + (float) lane * step;
        }
        for (int i = vectorized; i < steps; i++) out[i] = i < half ? fma(step, i, s) : fma(-step, steps - i - 1, e);
        return out;
    }

    /** torch.linspace(start, end, steps) in float32 with the default lane count. */
    static double[] linspace(double start, double end, int steps) {
        return linspace(start, end, steps, LINSPACE_LANES);
    }

    private static float fma(float a, float b, float c) {
        return Math.fma(a, b, c);
    }
}
