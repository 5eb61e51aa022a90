package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Backend;
import dev.longconv.simd.FftSizes;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FdTno against a dense-DFT reference of its definition: the encoder's response at ω_m = π m/(N/2), the
 * kernel h = inverse DFT of the spectrum (causal: the real part's inverse DFT e, then h = e at 0 and N/2,
 * 2e between, 0 above), y[t] = Σ_s h[(t - s) mod N] x[s]. Also causality and gradients.
 */
class FdTnoTest {
    static final int[] LENGTHS = {1, 2, 3, 7, 13, 29};

    record Case(Backend backend, long seed, DType dtype, int batch, int len, FdTno.Config config) {
        @Override
        public String toString() {
            return backend.name() + " seed=" + seed + " " + dtype + " B=" + batch + " L=" + len + " " + config;
        }
    }

    static FdTno.Config randomConfig(SplittableRandom rng, int index, int h, int dim) {
        return new FdTno.Config(h, dim, 1 + rng.nextInt(5), index % 2 == 0, rng.nextBoolean(),
                Activation.values()[index % Activation.values().length], rng.nextBoolean(), rng.nextInt(3),
                NormType.values()[index % NormType.values().length]);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.forwardBackends()) {
            SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 2);
            int index = 0;
            for (int len : LENGTHS) {
                for (DType dt : DType.values()) {
                    for (int rep = 0; rep < 2; rep++, index++) {
                        FdTno.Config c = randomConfig(rng, index, 1 + rng.nextInt(2), 1 + rng.nextInt(3));
                        LayerChecks.addIf(out, be, dt, Arguments.of(new Case(be, rng.nextLong(), dt, 1 + rng.nextInt(2), len, c)));
                    }
                }
            }
        }
        return out.stream();
    }

    /** The definition with dense inverse DFTs; N = 2 * nextFast(L). */
    static Tensor reference(Map<String, Tensor> sd, FdTno.Config c, Tensor x) {
        int b = (int) x.dim(0), h = c.h(), len = (int) x.dim(2), d = c.dim(), ch = h * d;
        int n = 2 * FftSizes.nextFast(len), bins = n / 2 + 1;
        double[][] r = new double[bins][];
        for (int m = 0; m < bins; m++) {
            r[m] = TnnReference.rpe(Math.PI * m / (n / 2), sd, "rpe.", c.layers(), c.residual(), c.act().upstreamName(), c.normType().upstreamName());
        }
        double[][] kernel = new double[ch][n];
        for (int q = 0; q < ch; q++) {
            for (int t = 0; t < n; t++) {
                double acc = 0;
                for (int m = 0; m < bins; m++) {
                    double ang = 2 * Math.PI * m * t / n, re = r[m][q], im = c.causal() || m == 0 || m == n / 2 ? 0 : r[m][ch + q];
                    double term = re * Math.cos(ang) - im * Math.sin(ang);
                    acc += m == 0 || m == n / 2 ? term : 2 * term;
                }
                kernel[q][t] = acc / n;
            }
            if (c.causal()) for (int t = 0; t < n; t++) kernel[q][t] *= t == 0 || t == n / 2 ? 1 : t < n / 2 ? 2 : 0;
        }
        Tensor y = Tensor.zeros(DType.FLOAT64, b, h, len, d);
        for (int i = 0; i < b; i++) for (int hh = 0; hh < h; hh++) for (int cc = 0; cc < d; cc++) for (int t = 0; t < len; t++) {
            double acc = 0;
            for (int s = 0; s < len; s++) acc += kernel[hh * d + cc][Math.floorMod(t - s, n)] * x.get(i, hh, s, cc);
            y.set(acc, i, hh, t, cc);
        }
        return y;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesDenseDft(Case k) {
        FdTno.Config c = k.config;
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c), k.dtype, k.seed);
        try (Tensor x = Tensor.random(k.dtype, k.seed ^ 5, k.batch, c.h(), k.len, c.dim());
             Tensor y = new FdTno(c, sd).forward(k.backend, x); Tensor expected = reference(sd, c, x)) {
            Compare.assertClose(y, expected, k.dtype, "fd-tno " + k);
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    @Test
    void fftSizeIsEvenFastAndAtLeastTwiceL() {
        for (int len = 1; len < 3000; len++) {
            int n = FdTno.fftSize(len);
            assertTrue(n >= 2 * len && n % 2 == 0 && FftSizes.isFast(n), "L=" + len + " N=" + n);
            for (int smaller = 2 * len; smaller < n; smaller += 2) assertTrue(!FftSizes.isFast(smaller), "L=" + len + ": " + smaller + " < " + n);
        }
        assertEquals(30, FdTno.fftSize(14));
    }

    @Test
    void causalOutputsIgnoreLaterInputs() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 6);
        for (Backend be : TnnTestSupport.backends()) {
            for (int index = 0; index < 6; index += 2) {
                FdTno.Config c = randomConfig(rng, index, 2, 2);
                long seed = rng.nextLong();
                int len = 19, t0 = 1 + rng.nextInt(len - 1);
                Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c), DType.FLOAT64, seed);
                FdTno layer = new FdTno(c, sd);
                try (Tensor x = Tensor.random(DType.FLOAT64, seed, 1, 2, len, 2); Tensor x2 = x.copy()) {
                    for (int h = 0; h < 2; h++) for (int d = 0; d < 2; d++) x2.set(x2.get(0, h, t0, d) - 2, 0, h, t0, d);
                    try (Tensor y = layer.forward(be, x); Tensor y2 = layer.forward(be, x2)) {
                        double before = 0, after = 0, scale = 0;
                        for (int h = 0; h < 2; h++) for (int t = 0; t < len; t++) for (int d = 0; d < 2; d++) {
                            double diff = Math.abs(y.get(0, h, t, d) - y2.get(0, h, t, d));
                            scale = Math.max(scale, Math.abs(y.get(0, h, t, d)));
                            if (t < t0) before = Math.max(before, diff);
                            else after = Math.max(after, diff);
                        }
                        String what = be.name() + " seed=" + seed + " t0=" + t0 + " " + c;
                        double b0 = before, s0 = scale;
                        assertTrue(b0 <= 1e-12 * s0, () -> what + ": outputs before t0 changed by " + b0);
                        assertTrue(after > 0, () -> what + ": outputs from t0 on did not change");
                    }
                } finally {
                    TnnTestSupport.closeAll(sd);
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 17);
        int[] lengths = {1, 3, 4};
        for (Backend be : TnnTestSupport.backends()) {
            for (int index = 0; index < 6; index++) {
                FdTno.Config r = randomConfig(rng, index, 2, 2);
                FdTno.Config c = new FdTno.Config(2, 2, 3, r.causal(), r.residual(), GtuTest.smooth(r.act()), r.bias(), 1 + index % 2, r.normType());
                long seed = rng.nextLong();
                int len = lengths[index % lengths.length];
                Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c), DType.FLOAT64, seed);
                try (Tensor x = Tensor.random(DType.FLOAT64, seed ^ 3, 2, 2, len, 2)) {
                    TnnTestSupport.checkGradients(new FdTno(c, sd), be, x, seed, "fd-tno " + be.name() + " L=" + len + " " + c);
                } finally {
                    TnnTestSupport.closeAll(sd);
                }
            }
        }
    }

    @Test
    void loadsWithTnoNames() {
        FdTno.Config c = new FdTno.Config(1, 2, 3, false, false, Activation.SILU, true, 1, NormType.SIMPLE_RMS);
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c), DType.FLOAT64, 8);
        try {
            assertEquals(List.of("rpe.pos_proj.weight", "rpe.pos_proj.bias", "rpe.layers.0.2.weight", "rpe.layers.0.2.bias",
                    "rpe.out.2.weight", "rpe.out.2.bias"), List.copyOf(sd.keySet()));
            assertEquals(4, sd.get("rpe.out.2.weight").dim(0)); // re and im for h*dim = 2 channels
            FdTno f = FdTno.load(Weights.of("in-memory", sd, Map.of("h", "1", "dim", "2", "rpe_dim", "3", "act", "silu", "layers", "1")), Map.of());
            assertEquals(c, f.config());
            try (Tensor x = Tensor.random(DType.FLOAT64, 1, 1, 1, 6, 2); Tensor y = f.forward(new ScalarBackend(), x); Tensor e = reference(sd, c, x)) {
                Compare.assertClose(y, e, DType.FLOAT64, "fd-tno loaded");
            }
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }
}
