package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Results follow the definition whatever the input's range: float32 outputs are finite whenever the float64 reference
 * is representable (an unguarded float32 FFT overflows inside the transform at about n^2 max|x| max|k| > 3.4e38), and a
 * non-finite input at t0 leaves every output it does not reach (t < t0, and t >= t0 + Lk) as the reference has it
 * (an FFT would spread it everywhere). On plans (direct and FFT), op calls, toeplitz-conv, and streams (steps,
 * segments, bulk).
 */
class RangeTest {
    static final long SEED = 11;

    /** Relative L2 over the elements where the reference is finite; non-finite exactly where the reference is (NaN as NaN). */
    static String compare(Tensor actual, Tensor expected, double tol) {
        double num = 0, den = 0;
        for (long i = 0, n = expected.numel(); i < n; i++) {
            double e = expected.getFlat(i), a = actual.getFlat(i);
            if (!Double.isFinite(e)) {
                if (Double.isNaN(e) != Double.isNaN(a) || Double.isInfinite(e) != Double.isInfinite(a)) return "element " + i + ": " + a + " where the reference has " + e;
                continue;
            }
            if (!Double.isFinite(a)) return "element " + i + ": " + a + " where the reference has " + e;
            num += (a - e) * (a - e);
            den += e * e;
        }
        double err = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        return err <= tol ? null : "relative L2 " + err + " > " + tol;
    }

    private static List<Tensor> inputs(DType dt, long[] shape, int len, int lAxis, double scale, String poison, int t0) {
        List<Tensor> out = new ArrayList<>();
        Tensor x = Tensor.random(dt, SEED, shape);
        for (long i = 0; i < x.numel(); i++) x.setFlat(i, x.getFlat(i) * scale);
        if (poison != null) {
            double v = poison.equals("nan") ? Double.NaN : Double.POSITIVE_INFINITY;
            if (lAxis == 2) x.set(v, 0, 1, t0);
            else x.set(v, 0, t0, 1);
        }
        out.add(x);
        return out;
    }

    /**
     * One batch row (each block's spectrum made once, in its task, from taps gathered straight into the transform's
     * buffer, their range measured on the way; a prime length, poisoned at its last step) and two (spectra kept), 35
     * channels (whole lane blocks and a partial one), and kernels of |k| ~ 1e30 that the spectrum normalizes, also with a non-finite input, which must then be
     * summed directly with the taps as given.
     */
    @Test
    void largeAndNonFiniteInputsFollowTheDefinition() {
        for (Backend be : TestBackends.cpu()) {
            for (DType dt : DType.values()) {
                for (Layout lay : Layout.values()) {
                    for (String poison : new String[] {null, "nan", "inf"}) {
                        for (double kScale : new double[] {1, 1e30}) {
                            if (poison == null && dt == DType.FLOAT64 && kScale == 1) continue; // the range case is float32's
                            for (int taps : new int[] {5, 700}) {
                                for (int b : new int[] {1, 2}) {
                                    // one row: a prime length, its poison at the last step (past the last whole lane tile)
                                    int d = 35, len = b == 1 ? 1021 : 1024, t0 = b == 1 ? len - 1 : len / 3;
                                    int lAxis = lay == Layout.BDL ? 2 : 1;
                                    long[] shape = lay.seqShape(b, d, len);
                                    double scale = poison == null && kScale == 1 ? 2e32 : 1;
                                    String what = be.name() + " " + dt + " " + lay + " b=" + b + " taps=" + taps + " |k|~" + kScale + " "
                                            + (poison == null ? "|x|~" + scale : poison);
                                    try (Tensor x = inputs(dt, shape, len, lAxis, scale, poison, t0).get(0); Tensor k = scaled(Tensor.random(dt, SEED + 1, lay.kernelShape(d, taps)), kScale);
                                         Tensor ref = Reference.causalConv(x, k, lay); Tensor y = be.causalConv(x, k, lay);
                                         Tensor kt = scaled(Tensor.random(dt, SEED + 2, lay.kernelShape(d, 2 * len - 1)), kScale);
                                         Tensor reft = Reference.toeplitzConv(x, kt, lay); Tensor yt = be.toeplitzConv(x, kt, lay);
                                         CausalStream s = be.causalStream(k, b, lay); Tensor ys = StreamCheck.run(s,
                                                 StreamCheck.randomSplit(new SplittableRandom(SEED), len, 100, 200), x, null, null, null, lay)) {
                                        double tol = Compare.tolerance(dt);
                                        String e = compare(y, ref, tol);
                                        assertTrue(e == null, what + " causal-conv: " + e);
                                        e = compare(yt, reft, tol);
                                        assertTrue(e == null, what + " toeplitz-conv: " + e);
                                        e = compare(ys, ref, tol);
                                        assertTrue(e == null, what + " stream (" + s.describe() + "): " + e);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** t with every element times f, for chaining in try-with-resources. */
    private static Tensor scaled(Tensor t, double f) {
        if (f != 1) for (long i = 0; i < t.numel(); i++) t.setFlat(i, t.getFlat(i) * f);
        return t;
    }
}
