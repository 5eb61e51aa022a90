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
 * FdTno against a dense-DFT reference of its definition: the encoder's response at the grid's ω_m (upstream:
 * N the smallest power of two >= 2L, ω from torch's float32 linspace; fast: N = 2 nextFast(L), ω_m = π m/(N/2)),
 * split per head into real and imaginary parts as ski-tnn's TnoFD does (head h's block of 2·dim outputs: dim
 * real, then dim imaginary), the kernel h = inverse DFT of the spectrum (causal: the real part's inverse DFT e,
 * then h = e at 0 and N/2, 2e between, 0 above), y[t] = Σ_s h[(t - s) mod N] x[s]. Also causality and gradients.
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
                NormType.values()[index % NormType.values().length], (index / 2) % 2 == 0 ? FrequencyGrid.UPSTREAM : FrequencyGrid.FAST);
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

    /** The reference's FFT size: upstream's smallest power of two >= 2L, or 2 * nextFast(L). */
    static int referenceSize(FrequencyGrid g, int len) {
        if (g == FrequencyGrid.FAST) return 2 * FftSizes.nextFast(len);
        int n = 1;
        while (n < 2 * len) n *= 2;
        return n;
    }

    /** The definition with dense inverse DFTs. */
    static Tensor reference(Map<String, Tensor> sd, FdTno.Config c, Tensor x) {
        int b = (int) x.dim(0), h = c.h(), len = (int) x.dim(2), d = c.dim(), ch = h * d;
        int n = referenceSize(c.grid(), len), bins = n / 2 + 1;
        double[] omega = c.grid() == FrequencyGrid.FAST ? null : TorchFloat32.linspace(0, Math.PI, bins);
        double[][] r = new double[bins][];
        for (int m = 0; m < bins; m++) {
            double w = omega == null ? Math.PI * m / (n / 2) : omega[m];
            r[m] = TnnReference.rpe(w, sd, "rpe.", c.layers(), c.residual(), c.act().upstreamName(), c.normType().upstreamName());
        }
        double[][] kernel = new double[ch][n];
        for (int q = 0; q < ch; q++) {
            for (int t = 0; t < n; t++) {
                double acc = 0;
                for (int m = 0; m < bins; m++) {
                    int head = q / d, col = c.causal() ? q : head * 2 * d + q % d;
                    double ang = 2 * Math.PI * m * t / n, re = r[m][col], im = c.causal() || m == 0 || m == n / 2 ? 0 : r[m][col + d];
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
    void fastFftSizeIsEvenFastAndAtLeastTwiceL() {
        for (int len = 1; len < 3000; len++) {
            int n = FrequencyGrid.FAST.fftSize(len);
            assertTrue(n >= 2 * len && n % 2 == 0 && FftSizes.isFast(n), "L=" + len + " N=" + n);
            for (int smaller = 2 * len; smaller < n; smaller += 2) assertTrue(!FftSizes.isFast(smaller), "L=" + len + ": " + smaller + " < " + n);
        }
        assertEquals(30, FrequencyGrid.FAST.fftSize(14));
    }

    @Test
    void upstreamFftSizeIsTheNextPowerOfTwoOfTwiceL() {
        for (int len = 1; len < 5000; len++) {
            int n = FrequencyGrid.UPSTREAM.fftSize(len);
            assertTrue(Integer.bitCount(n) == 1 && n >= 2 * len && n / 2 < 2 * len, "L=" + len + " N=" + n);
        }
        assertEquals(256, FrequencyGrid.UPSTREAM.fftSize(100));
        assertEquals(2048, FrequencyGrid.UPSTREAM.fftSize(1000));
        assertEquals(2, FrequencyGrid.UPSTREAM.fftSize(1));
    }

    /**
     * Bidirectional with two heads: each head's block of the encoder's output is [dim real parts, dim imaginary
     * parts] (upstream's 'f (h d) -> h f d' with d = 2 dim). Changing the output row of head 0's imaginary part of
     * channel 1 changes that channel's outputs and no other (the split across all H·dim channels got this wrong).
     */
    @Test
    void bidirectionalHeadsReadTheirOwnRealAndImaginaryBlocks() {
        FdTno.Config c = new FdTno.Config(2, 3, 4, false, false, Activation.RELU, true, 1, NormType.SIMPLE_RMS);
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c), DType.FLOAT64, 77);
        Backend be = new ScalarBackend();
        try (Tensor x = Tensor.random(DType.FLOAT64, 5, 1, 2, 9, 3)) {
            FdTno layer = new FdTno(c, sd);
            double[] before;
            try (Tensor y = layer.forward(be, x)) {
                before = y.toDoubleArray();
            }
            // out.2.weight rows: head 0 = rows 0..5 (0..2 real, 3..5 imaginary), head 1 = rows 6..11.
            Tensor w = sd.get("rpe.out.2.weight");
            for (int j = 0; j < w.dim(1); j++) w.set(w.get(4, j) + 0.5, 4, j); // head 0, imaginary, channel 1
            try (Tensor y = layer.forward(be, x)) {
                double[] after = y.toDoubleArray();
                // [B=1, H=2, L=9, dim=3]: head 0's channel 1 changes, everything else stays.
                for (int hh = 0; hh < 2; hh++) for (int t = 0; t < 9; t++) for (int cc = 0; cc < 3; cc++) {
                    int i = (hh * 9 + t) * 3 + cc;
                    if (hh == 0 && cc == 1) continue;
                    assertEquals(before[i], after[i], 0.0, "h=" + hh + " t=" + t + " c=" + cc);
                }
                double changed = 0;
                for (int t = 0; t < 9; t++) changed += Math.abs(after[t * 3 + 1] - before[t * 3 + 1]);
                assertTrue(changed > 1e-3, "head 0 channel 1 did not change");
            }
        } finally {
            TnnTestSupport.closeAll(sd);
        }
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
