package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference checked against facts that do not come from its own loops: analytic DFTs,
 * identities between ops, and properties stated in the definitions.
 */
class ReferenceTest {
    static final long SEED = Long.getLong("longconv.test.seed", 7L);

    @Test
    void rfftOfCosineIsTwoSpikes() {
        for (int n : new int[] {1, 2, 7, 16, 25, 97}) {
            for (int f0 = 0; f0 <= n / 2; f0++) {
                double[] x = new double[n];
                for (int t = 0; t < n; t++) x[t] = Math.cos(2 * Math.PI * f0 * t / n);
                try (Tensor xt = Tensor.of(x, n); Tensor s = Reference.rfft(xt, n)) {
                    for (int f = 0; f <= n / 2; f++) {
                        double expect = f != f0 ? 0 : (f0 == 0 || 2 * f0 == n ? n : n / 2.0);
                        assertEquals(expect, s.get(f, 0), 1e-9, "n=" + n + " f0=" + f0 + " bin " + f);
                        assertEquals(0, s.get(f, 1), 1e-9, "n=" + n + " f0=" + f0 + " bin " + f + " imag");
                    }
                }
            }
        }
    }

    @Test
    void irfftInvertsRfft() {
        for (int n : new int[] {1, 2, 3, 10, 31, 64}) {
            try (Tensor x = Tensor.random(DType.FLOAT64, SEED + n, 2, n);
                 Tensor s = Reference.rfft(x, n); Tensor y = Reference.irfft(s, n)) {
                assertTrue(Compare.relL2(y, x) < 1e-12, "n=" + n + " seed=" + (SEED + n));
            }
        }
    }

    @Test
    void causalConvIsLowerTriangularToeplitz() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int len : new int[] {1, 4, 13, 40}) {
            int lk = 1 + r.nextInt(2 * len);
            try (Tensor x = Tensor.random(DType.FLOAT64, SEED, 2, 3, len);
                 Tensor k = Tensor.random(DType.FLOAT64, SEED + 1, 3, lk);
                 Tensor kt = Tensor.zeros(DType.FLOAT64, 3, 2 * len - 1)) {
                for (int d = 0; d < 3; d++) for (int s = 0; s < Math.min(lk, len); s++) kt.set(k.get(d, s), d, len - 1 + s);
                try (Tensor a = Reference.causalConv(x, k, Layout.BDL); Tensor b = Reference.toeplitzConv(x, kt, Layout.BDL)) {
                    assertTrue(Compare.relL2(a, b) < 1e-13, "L=" + len + " Lk=" + lk + " seed=" + SEED);
                }
            }
        }
    }

    @Test
    void causalShortConvIsCausalConvWithReversedKernel() {
        for (int w : new int[] {1, 2, 5}) {
            try (Tensor x = Tensor.random(DType.FLOAT64, SEED, 2, 3, 11);
                 Tensor wt = Tensor.random(DType.FLOAT64, SEED + 2, 3, w);
                 Tensor rev = Tensor.zeros(DType.FLOAT64, 3, w)) {
                for (int d = 0; d < 3; d++) for (int j = 0; j < w; j++) rev.set(wt.get(d, w - 1 - j), d, j);
                try (Tensor a = Reference.shortConv(x, wt, null, ShortConvMode.CAUSAL, Layout.BDL);
                     Tensor b = Reference.causalConv(x, rev, Layout.BDL)) {
                    assertTrue(Compare.relL2(a, b) < 1e-13, "W=" + w);
                }
            }
        }
    }

    @Test
    void layoutsAgree() {
        try (Tensor x = Tensor.random(DType.FLOAT64, SEED, 2, 3, 9); Tensor k = Tensor.random(DType.FLOAT64, SEED + 3, 3, 4);
             Tensor a = Reference.causalConv(x, k, Layout.BDL);
             Tensor b = Reference.causalConv(x.transpose(1, 2), k.transpose(0, 1), Layout.BLD)) {
            assertTrue(Compare.relL2(b.transpose(1, 2), a) == 0, "BLD result is the BDL result transposed");
        }
    }

    @Test
    void interpolationRowsSumToOneAndReproduceLines() {
        for (int len : new int[] {1, 2, 7, 100}) {
            for (int r : new int[] {2, 3, 8, 33}) {
                double[][] w = Reference.interpolationMatrix(len, r);
                double h = len == 1 ? 0 : (double) (len - 1) / (r - 1);
                for (int t = 0; t < len; t++) {
                    double sum = 0, line = 0;
                    int nonzero = 0;
                    for (int i = 0; i < r; i++) {
                        sum += w[t][i];
                        line += w[t][i] * i * h;
                        if (w[t][i] != 0) nonzero++;
                        assertTrue(w[t][i] >= 0, "weights are convex");
                    }
                    assertEquals(1, sum, 1e-12, "L=" + len + " r=" + r + " t=" + t);
                    assertEquals(t, line, 1e-9, "W p reproduces t: L=" + len + " r=" + r);
                    assertTrue(nonzero <= 2, "at most two neighbours");
                }
            }
        }
    }

    @Test
    void causalSpectrumKeepsRealPartAndIsCausal() {
        for (int n : new int[] {2, 8, 30}) {
            try (Tensor re = Tensor.random(DType.FLOAT64, SEED + n, 2, n / 2 + 1); Tensor s = Reference.causalSpectrum(re, n);
                 Tensor h = Reference.irfft(s, n)) {
                for (int c = 0; c < 2; c++) {
                    for (int f = 0; f <= n / 2; f++) assertEquals(re.get(c, f), s.get(c, f, 0), 1e-12, "real part kept");
                    for (int t = n / 2 + 1; t < n; t++) assertEquals(0, h.get(c, t), 1e-12, "causal: h[" + t + "] = 0");
                }
            }
        }
    }

    @Test
    void gemmTransposesAgree() {
        try (Tensor a = Tensor.random(DType.FLOAT64, SEED, 5, 7); Tensor b = Tensor.random(DType.FLOAT64, SEED + 1, 7, 3);
             Tensor at = a.transpose(0, 1).contiguous(); Tensor bt = b.transpose(0, 1).contiguous();
             Tensor c0 = Reference.gemm(a, b, false, false); Tensor c1 = Reference.gemm(at, bt, true, true)) {
            assertTrue(Compare.relL2(c1, c0) < 1e-15);
            double expect = 0;
            for (int p = 0; p < 7; p++) expect += a.get(2, p) * b.get(p, 1);
            assertEquals(expect, c0.get(2, 1), 1e-14);
        }
    }
}
