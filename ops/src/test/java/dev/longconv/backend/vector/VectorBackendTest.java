package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.spi.Plans;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.Simd;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the parity suite (BackendTest) does not cover: long sequences, plans shared across threads, plan misuse. */
class VectorBackendTest {
    static final long SEED = Long.getLong("longconv.test.seed", 31L);
    static VectorBackend vector;

    @BeforeAll
    static void needsVectorApi() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        vector = new VectorBackend();
    }

    /** The float64 scalar backend on float64 copies: an O(L log L) oracle for lengths where the direct reference is too slow. */
    static Tensor float64Oracle(Tensor x, Tensor k, boolean toeplitz, Layout layout) {
        try (Tensor x64 = x.to(DType.FLOAT64); Tensor k64 = k.to(DType.FLOAT64)) {
            ScalarBackend s = new ScalarBackend();
            return toeplitz ? s.toeplitzConv(x64, k64, layout) : s.causalConv(x64, k64, layout);
        }
    }

    /** Fewer channels than lanes: the scalar path's spectrum exactly (the lane transform was 5-6x slower there). */
    @Test
    void causalSpectrumOfFewChannelsTakesTheScalarPath() {
        int d = Lanes.W - 1, n = 256;
        try (Tensor re = Tensor.random(DType.FLOAT32, SEED, d, n / 2 + 1);
             Tensor y = vector.causalSpectrum(re, n);
             Tensor s = new ScalarBackend().causalSpectrum(re, n)) {
            for (long i = 0; i < y.numel(); i++) assertEquals(s.getFlat(i), y.getFlat(i), 0.0, "bin value " + i + " seed=" + SEED);
        }
    }

    /**
     * Enough channel blocks at a length where the plan computes its kernel spectra on the pool, with runs of blocks that
     * share one kernel (their spectrum is computed once and reused) between blocks that do not: every channel within
     * the float32 tolerance of the float64 oracle, in both layouts and both ops. One batch row takes the single-use
     * plan (each block's spectrum made in its own task), two the kept one.
     */
    @Test
    void kernelSpectraOfManyBlocksAndSharedKernelsFollowTheOracle() {
        int w = Lanes.W, d = 9 * w + 3, len = 1500;
        for (int batch : new int[] {1, 2}) for (Layout layout : Layout.values()) {
            for (boolean toeplitz : new boolean[] {false, true}) {
                int taps = toeplitz ? 2 * len - 1 : len;
                try (Tensor x = Tensor.random(DType.FLOAT32, SEED + 2, layout.seqShape(batch, d, len));
                     Tensor k = Tensor.random(DType.FLOAT32, SEED + 3, layout.kernelShape(d, taps))) {
                    // channels of blocks 2..4 share channel c mod W's kernel from block 1: equal blocks
                    for (int c = 2 * w; c < 5 * w; c++) {
                        for (int t = 0; t < taps; t++) {
                            long[] from = layout == Layout.BDL ? new long[] {w + c % w, t} : new long[] {t, w + c % w};
                            long[] to = layout == Layout.BDL ? new long[] {c, t} : new long[] {t, c};
                            k.set(k.get(from), to);
                        }
                    }
                    try (Tensor y = toeplitz ? vector.toeplitzConv(x, k, layout) : vector.causalConv(x, k, layout);
                         Tensor ref = float64Oracle(x, k, toeplitz, layout)) {
                        double err = Compare.relL2(y, ref);
                        String what = (toeplitz ? "toeplitz-conv" : "causal-conv") + " B=" + batch + " D=" + d + " L=" + len + " " + layout + " seed=" + SEED;
                        assertTrue(err <= Compare.TOL_F32, what + ": relative L2 error " + err);
                    }
                }
            }
        }
    }

    /**
     * Kernel lanes far from 1 (n max|k| past the planner's bound, so the plan normalizes them and undoes it on the
     * output), zero lanes, and lanes whose inputs are large enough that the call must scale them (which reads the plan's
     * max|k|), in blocks that take each path alone and together: every channel within the float32 tolerance of the
     * float64 oracle, in both ops and layouts.
     */
    @Test
    void scaledKernelLanesAndScaledInputsFollowTheOracle() {
        int d = 2 * Lanes.W + 3, len = 1000;
        for (Layout layout : Layout.values()) {
            for (boolean toeplitz : new boolean[] {false, true}) {
                int taps = toeplitz ? 2 * len - 1 : len;
                try (Tensor x = Tensor.random(DType.FLOAT32, SEED + 4, layout.seqShape(1, d, len));
                     Tensor k = Tensor.random(DType.FLOAT32, SEED + 5, layout.kernelShape(d, taps))) {
                    for (int c = 0; c < d; c++) {
                        // block 0: kernel lanes normalized by the plan, zero and plain ones, plain inputs; block 1: large
                        // inputs the call must scale; the tail block: both
                        int block = c / Lanes.W;
                        double ks = block != 1 && c % 3 == 0 ? 1e16 : c % 3 == 2 ? 0 : 1, xs = block != 0 && c % 3 == 1 ? 1e31 : 1;
                        for (int t = 0; t < taps; t++) {
                            long[] at = layout == Layout.BDL ? new long[] {c, t} : new long[] {t, c};
                            k.set(k.get(at) * ks, at);
                        }
                        for (int t = 0; t < len; t++) {
                            long[] at = layout == Layout.BDL ? new long[] {0, c, t} : new long[] {0, t, c};
                            x.set(x.get(at) * xs, at);
                        }
                    }
                    try (Tensor y = toeplitz ? vector.toeplitzConv(x, k, layout) : vector.causalConv(x, k, layout);
                         Tensor ref = float64Oracle(x, k, toeplitz, layout)) {
                        for (int c = 0; c < d; c++) {
                            double num = 0, den = 0;
                            for (int t = 0; t < len; t++) {
                                long[] at = layout == Layout.BDL ? new long[] {0, c, t} : new long[] {0, t, c};
                                double e = y.get(at) - ref.get(at);
                                num += e * e;
                                den += ref.get(at) * ref.get(at);
                            }
                            double err = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
                            String what = (toeplitz ? "toeplitz-conv" : "causal-conv") + " channel " + c + " " + layout + " seed=" + SEED;
                            assertTrue(err <= Compare.TOL_F32, what + ": relative L2 error " + err);
                        }
                    }
                }
            }
        }
    }

    @Test
    void float32AccuracyHoldsAtLength65536() {
        int len = 65536;
        for (Layout layout : Layout.values()) {
            for (boolean toeplitz : new boolean[] {false, true}) {
                int taps = toeplitz ? 2 * len - 1 : len;
                try (Tensor x = Tensor.random(DType.FLOAT32, SEED, layout.seqShape(1, 3, len));
                     Tensor k = Tensor.random(DType.FLOAT32, SEED + 1, layout.kernelShape(3, taps));
                     Tensor y = toeplitz ? vector.toeplitzConv(x, k, layout) : vector.causalConv(x, k, layout);
                     Tensor ref = float64Oracle(x, k, toeplitz, layout)) {
                    double err = Compare.relL2(y, ref);
                    String what = (toeplitz ? "toeplitz-conv" : "causal-conv") + " L=" + len + " " + layout + " seed=" + SEED;
                    System.out.printf("vector float32 %s: relative L2 error %.2e%n", what, err);
                    assertTrue(err <= Compare.TOL_F32, what + ": relative L2 error " + err);
                }
            }
        }
    }

    @Test
    void sharedPlanGivesBitIdenticalResultsFromManyThreads() throws Exception {
        int len = 3000, d = 11;
        try (Tensor k = Tensor.random(DType.FLOAT32, SEED, d, len)) {
            ConvPlan plan = vector.causalConvPlan(k, len, Layout.BDL);
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Tensor x = Tensor.random(DType.FLOAT32, SEED + 10 + i, 2, d, len);
                inputs.add(x);
                try (Tensor y = plan.apply(x)) {
                    expected.add(y.toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int th = 0; th < 4; th++) {
                    fs.add(pool.submit(() -> {
                        for (int rep = 0; rep < 5; rep++) {
                            for (int i = 0; i < inputs.size(); i++) {
                                try (Tensor y = plan.apply(inputs.get(i))) {
                                    assertArrayEquals(expected.get(i), y.toFloatArray(), "input " + i);
                                }
                            }
                        }
                    }));
                }
                for (Future<?> f : fs) f.get();
            } finally {
                pool.shutdownNow();
                inputs.forEach(Tensor::close);
            }
        }
    }

    @Test
    void planRejectsInputsAndOutputsItWasNotMadeFor() {
        try (Tensor k = Tensor.random(DType.FLOAT32, SEED, 4, 100); Tensor x = Tensor.random(DType.FLOAT32, SEED, 1, 4, 99);
             Tensor x64 = Tensor.random(DType.FLOAT64, SEED, 1, 4, 100); Tensor good = Tensor.random(DType.FLOAT32, SEED, 1, 4, 100);
             Tensor badY = Tensor.zeros(DType.FLOAT32, 1, 4, 99)) {
            ConvPlan plan = vector.causalConvPlan(k, 100, Layout.BDL);
            var e = assertThrows(LongConvException.class, () -> plan.apply(x));
            assertTrue(e.getMessage().contains("L=100") && e.getMessage().contains("[1, 4, 99]"), e.getMessage());
            assertThrows(LongConvException.class, () -> plan.apply(x64));
            e = assertThrows(LongConvException.class, () -> plan.applyInto(good, badY));
            assertEquals("y", e.argument());
            try (Tensor a = plan.apply(good); Tensor b = plan.apply(good)) {
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "a plan is reusable");
            }
        }
    }

    @Test
    void shortKernelsTakeTheDirectPathAndLongOnesTheFft() {
        try (Tensor shortK = Tensor.random(DType.FLOAT32, SEED, 3, 4); Tensor longK = Tensor.random(DType.FLOAT32, SEED, 3, 4096);
             Tensor tiny = Tensor.random(DType.FLOAT32, SEED, 3, 5)) {
            VectorBackend vb = new VectorBackend();
            assertEquals(new ConvPlan.Description("vector", "direct-rows", 0), vb.causalConvPlan(shortK, 4096, Layout.BDL).describe(), "4 taps, BDL: direct along rows");
            try (Tensor shortBld = shortK.transpose(0, 1).contiguous()) {
                assertEquals(new ConvPlan.Description("vector", "direct", 0), vb.causalConvPlan(shortBld, 4096, Layout.BLD).describe(), "4 taps, BLD: direct on lanes");
            }
            assertEquals(new ConvPlan.Description("vector", "fft", 8192), vb.causalConvPlan(longK, 4096, Layout.BDL).describe(), "4096 taps: FFT of 8192");
            assertEquals(new ConvPlan.Description("vector", "direct-rows", 0), vb.toeplitzConvPlan(tiny, 3, Layout.BDL).describe(), "L=3: direct");
        }
    }

    /**
     * Memory at long lengths: a channel or two over millions of steps would leave W - D lanes of every buffer empty, so
     * such problems run on the scalar backend (rows of one channel); a plan the heap cannot hold is refused in one line
     * naming the bytes before anything is allocated.
     */
    @Test
    void longSparseProblemsRunOnTheScalarBackendAndOversizedPlansAreRefused() {
        int len = 6_000_000;
        try (Tensor k = Tensor.random(DType.FLOAT32, 1, 1, 1); ConvPlan plan = new VectorBackend().causalConvPlan(k, len, Layout.BDL)) {
            assertEquals("scalar", plan.describe().backend(), "one channel over 6M steps: " + plan.describe());
        }
        var e = assertThrows(LongConvException.class, () -> Plans.requireHeap("causal-conv", "the plan", Long.MAX_VALUE / 2));
        assertTrue(e.getMessage().contains("too large for this machine") && e.getMessage().contains("MiB needed"), e.getMessage());
    }
}
