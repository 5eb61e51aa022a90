package dev.longconv.backend.cuda;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.cuda.KernelLibrary;
import dev.longconv.cuda.Kernels;
import dev.longconv.cuda.gen.kernels.kernels_h;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;
import dev.longconv.ops.Reference;
import dev.longconv.ops.spi.Check;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fused FFT-convolution path of the cuda backend ({@link ConvPath#FUSED}) against the float64
 * reference, relative L2 at most 1e-5: every FFT size it takes (2 to 16384), both layouts, the gates each on and
 * off, toeplitz-conv, causal dx through the fused correlation, channel counts that are not multiples of the BLD
 * channel tile (16 rows per block up to N = 1024), odd and prime lengths, outputs poisoned with NaN. GPU tests are
 * skipped with the reason where no GPU can run them; the size rule and the mode parsing run anywhere the kernels
 * library loads (it needs libcudart, not a GPU). {@code -Dlongconv.test.seed=N} changes the seed.
 */
class CudaFusedConvTest extends CudaTestGpu {
    static final long SEED = Long.getLong("longconv.test.seed", 20261201L);
    static final ConcurrentHashMap<String, Double> WORST = new ConcurrentHashMap<>();

    @AfterAll
    static void report() {
        if (cuda != null) {
            cuda.setPoisonOutputs(false);
            cuda.setFusedMode(FusedMode.parse(System.getProperty("longconv.cuda.fused")));
        }
        report("cuda fused path", SEED, WORST);
    }

    private static void needsKernelLibrary() {
        KernelLibrary.Status s = KernelLibrary.status();
        assumeTrue(s.loaded(), () -> "kernels library not loaded: " + s.problem());
    }

    /** One shape: the plan must land on FFT size {@code n}; {@code gates} bits 1, 2, 4 give pre, post, skip. */
    record Case(long seed, Layout layout, int batch, int channels, int length, int taps, int n, int gates) {
        @Override
        public String toString() {
            return "seed=" + seed + " " + layout + " B=" + batch + " D=" + channels + " L=" + length + " Lk=" + taps + " N=" + n + " gates=" + gates;
        }

        long[] seq() {
            return layout.seqShape(batch, channels, length);
        }

        long[] kernel() {
            return layout.kernelShape(channels, taps);
        }
    }

    static List<Case> cases() {
        SplittableRandom r = new SplittableRandom(SEED);
        List<Case> out = new ArrayList<>();
        for (int n = 2; n <= Kernels.FUSED_MAX_N; n *= 2) {
            for (Layout lay : Layout.values()) {
                // channel counts around the BLD tile (16 channels per block for N <= 1024, fewer above); fewer rows at
                // large N, where the float64 reference costs L * Lk per row
                int d = n <= 1024 ? new int[] {1, 5, 16, 17, 33}[r.nextInt(5)] : (n <= 4096 ? 7 : 3);
                int b = n <= 4096 ? 1 + r.nextInt(3) : 2;
                int len = Math.max(1, n / 2);
                out.add(new Case(r.nextLong(), lay, b, d, len, n - len + 1, n, out.size() % 8)); // L + Lk - 1 = N exactly
                if (n >= 8) {
                    int odd = (n / 2 - 1 - (n / 2) % 3) | 1; // odd, not a multiple of any tile
                    int taps = n - odd + 1 - (n / 4) % 3;   // N/2 < L + Lk - 1 <= N, so the plan still lands on N
                    out.add(new Case(r.nextLong(), lay, b, d, odd, taps, n, out.size() % 8));
                }
            }
        }
        for (Layout lay : Layout.values()) {
            out.add(new Case(r.nextLong(), lay, 3, 33, 1, 1, 2, 7));       // L = 1
            out.add(new Case(r.nextLong(), lay, 2, 17, 257, 100, 512, 5)); // a prime length
            out.add(new Case(r.nextLong(), lay, 2, 3, 1009, 1009, 2048, 3));
        }
        return out;
    }

    /** toeplitz-conv at every N: L = N/2, so 2L - 1 lags land on N. */
    static List<Case> toeplitzCases() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        List<Case> out = new ArrayList<>();
        for (int n = 2; n <= Kernels.FUSED_MAX_N; n *= 2) {
            for (Layout lay : Layout.values()) {
                int len = n / 2, d = n <= 1024 ? 17 : 3, b = n <= 4096 ? 2 : 1;
                out.add(new Case(r.nextLong(), lay, b, d, len, 2 * len - 1, n, 0));
            }
        }
        return out;
    }

    private static Tensor rnd(long seed, long... shape) {
        return Tensor.random(DType.FLOAT32, seed, shape);
    }

    private static Tensor nanLike(long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, Double.NaN);
        return t;
    }

    private static void compare(String what, Case c, Tensor deviceResult, Tensor expected) {
        try (Tensor back = deviceResult.to(Device.CPU)) {
            WORST.merge(what.split(" ")[0], Compare.assertClose(back, expected, DType.FLOAT32, what + " " + c), Math::max);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gatedCausalConvMatchesTheReference(Case c) {
        needsGpu();
        int mask = c.gates;
        try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel());
             Tensor pre = (mask & 1) != 0 ? rnd(c.seed + 2, c.seq()) : null; Tensor post = (mask & 2) != 0 ? rnd(c.seed + 3, c.seq()) : null;
             Tensor skip = (mask & 4) != 0 ? rnd(c.seed + 4, c.channels) : null; Tensor nan = nanLike(c.seq());
             Tensor expected = Reference.gatedCausalConv(x, k, pre, post, skip, c.layout);
             Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor pd = pre == null ? null : pre.to(gpu);
             Tensor qd = post == null ? null : post.to(gpu); Tensor sd = skip == null ? null : skip.to(gpu); Tensor yd = nan.to(gpu);
             ConvPlan plan = cuda.causalConvPlan(kd, c.length, c.layout, ConvPath.FUSED)) {
            assertTrue(plan.describe().fused(), "a FUSED plan runs the fused kernel");
            assertEquals(c.n, plan.describe().fftSize(), "the fused plan's FFT size");
            plan.applyGatedInto(xd, pd, qd, sd, yd, c.layout);
            compare("fused-gated gates=" + mask, c, yd, expected);
            // and all gates at once, through a fresh NaN output
            try (Tensor p2 = rnd(c.seed + 5, c.seq()); Tensor q2 = rnd(c.seed + 6, c.seq()); Tensor s2 = rnd(c.seed + 7, c.channels);
                 Tensor all = Reference.gatedCausalConv(x, k, p2, q2, s2, c.layout); Tensor p2d = p2.to(gpu); Tensor q2d = q2.to(gpu);
                 Tensor s2d = s2.to(gpu); Tensor y2 = nan.to(gpu)) {
                plan.applyGatedInto(xd, p2d, q2d, s2d, y2, c.layout);
                compare("fused-gated gates=7", c, y2, all);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("toeplitzCases")
    void toeplitzConvMatchesTheReference(Case t) {
        needsGpu();
        try (Tensor x = rnd(t.seed, t.seq()); Tensor k = rnd(t.seed + 1, t.kernel()); Tensor expected = Reference.toeplitzConv(x, k, t.layout);
             Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); ConvPlan plan = cuda.toeplitzConvPlan(kd, t.length, t.layout, ConvPath.FUSED);
             Tensor y = plan.apply(xd)) {
            assertTrue(plan.describe().fused());
            assertEquals(t.n, plan.describe().fftSize());
            compare("fused-toeplitz", t, y, expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void causalBackwardWithFusedDxMatchesTheReference(Case c) {
        needsGpu();
        cuda.setFusedMode(FusedMode.ON);
        try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel()); Tensor gy = rnd(c.seed + 2, c.seq());
             Grads expected = Reference.causalConvBackward(x, k, gy, c.layout);
             Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor gd = gy.to(gpu); Grads g = cuda.causalConvBackward(xd, kd, gd, c.layout);
             ConvPlan auto = cuda.causalConvPlan(kd, c.length, c.layout)) {
            assertTrue(auto.describe().fused(), "mode ON: AUTO takes the fused kernel where it applies");
            compare("fused-backward dx", c, g.dx(), expected.dx());
            compare("fused-backward dk", c, g.dk(), expected.dk());
        } finally {
            cuda.setFusedMode(FusedMode.parse(System.getProperty("longconv.cuda.fused")));
        }
    }

    @Test
    void autoStaysOnCufftWhileTheTableIsUnmeasured() {
        needsGpu();
        cuda.setFusedMode(FusedMode.AUTO);
        try (Tensor kd = rnd(SEED, 4, 512).to(gpu); ConvPlan plan = cuda.causalConvPlan(kd, 512, Layout.BDL)) {
            assertEquals(FusedTable.MEASURED.isFaster(1024, Layout.BDL), plan.describe().fused(), "AUTO follows FusedTable");
            assertFalse(plan.describe().fused(), "FusedTable is empty until a GPU run measures the fused kernel faster");
        } finally {
            cuda.setFusedMode(FusedMode.parse(System.getProperty("longconv.cuda.fused")));
        }
    }

    @Test
    void fusedPlanBeyondItsLargestSizeNamesWhatIsWrong() {
        needsGpu();
        try (Tensor kd = rnd(SEED, 3, 8194).to(gpu)) {
            var e = assertThrows(LongConvException.class, () -> cuda.causalConvPlan(kd, 8192, Layout.BDL, ConvPath.FUSED));
            assertEquals(Check.CAUSAL_CONV, e.op());
            assertEquals("path", e.argument());
            assertTrue(e.getMessage().contains("L + Lk - 1 <= 16384") && e.getMessage().contains("L + Lk - 1 = 16385 (L=8192, Lk=8194, bdl)"),
                    e.getMessage());
            // the same kernel one tap shorter fits exactly
            try (Tensor k2 = rnd(SEED, 3, 8193).to(gpu); ConvPlan p = cuda.causalConvPlan(k2, 8192, Layout.BDL, ConvPath.FUSED)) {
                assertEquals(16384, p.describe().fftSize());
            }
        }
    }

    /** The size rule asks the kernels library, which loads without a GPU: this runs wherever libcudart is. */
    @Test
    void theSizeRuleFollowsTheKernelsLibrary() {
        needsKernelLibrary();
        for (Layout lay : Layout.values()) {
            assertEquals(2, CudaPathChooser.fusedFftSize(1, lay));
            assertEquals(2, CudaPathChooser.fusedFftSize(2, lay));
            assertEquals(4, CudaPathChooser.fusedFftSize(3, lay));
            assertEquals(1024, CudaPathChooser.fusedFftSize(1000, lay));
            assertEquals(16384, CudaPathChooser.fusedFftSize(16384, lay));
            assertEquals(0, CudaPathChooser.fusedFftSize(16385, lay));
            for (int n = 2; n <= Kernels.FUSED_MAX_N; n *= 2) {
                assertTrue(Kernels.fusedConvSupported(n, CudaContext.code(lay)), "N=" + n + " " + lay);
                if (n > 2) assertFalse(Kernels.fusedConvSupported(n + 2, CudaContext.code(lay)), "N=" + (n + 2) + " is no power of two");
            }
        }
        assertFalse(Kernels.fusedConvSupported(2L * Kernels.FUSED_MAX_N, Kernels.BDL));
        assertFalse(Kernels.fusedConvSupported(1024, 2), "layout 2 does not exist");
        assertEquals(kernels_h.LONGCONV_FUSED_MAX_N(), Kernels.FUSED_MAX_N, "Java's copy of the header's limit");
        var e = assertThrows(LongConvException.class,
                () -> CudaPathChooser.requireFusedSize(Check.CAUSAL_CONV, 16385, 8192, 8194, Layout.BLD));
        assertEquals(Check.CAUSAL_CONV, e.op());
        assertEquals("path", e.argument());
        assertTrue(e.getMessage().contains("L + Lk - 1 <= 16384") && e.getMessage().contains("L + Lk - 1 = 16385 (L=8192, Lk=8194, bld)"),
                e.getMessage());
        e = assertThrows(LongConvException.class, () -> CudaPathChooser.requireFusedSize(Check.TOEPLITZ_CONV, 16401, 8201, 16401, Layout.BDL));
        assertTrue(e.getMessage().contains("2L - 1 <= 16384") && e.getMessage().contains("2L - 1 = 16401"), e.getMessage());
    }

    /** The dispatcher, without a GPU: which path each request and mode ends on. */
    @Test
    void pathsAndModesPickTheKernelTheySay() {
        needsKernelLibrary();
        String op = Check.CAUSAL_CONV;
        for (Layout lay : Layout.values()) {
            for (FusedMode mode : FusedMode.values()) {
                assertEquals(0, CudaPathChooser.fusedSize(op, ConvPath.CUFFT, mode, FusedTable.MEASURED, 1000, 500, 501, lay), "CUFFT never fuses");
                assertEquals(1024, CudaPathChooser.fusedSize(op, ConvPath.FUSED, mode, FusedTable.MEASURED, 1000, 500, 501, lay), "FUSED always does where it applies");
                assertThrows(LongConvException.class, () -> CudaPathChooser.fusedSize(op, ConvPath.FUSED, mode, FusedTable.MEASURED, 20000, 10000, 10001, lay));
                assertEquals(0, CudaPathChooser.fusedSize(op, ConvPath.AUTO, mode, FusedTable.MEASURED, 20000, 10000, 10001, lay), "AUTO past the limit: cuFFT");
            }
            assertEquals(1024, CudaPathChooser.fusedSize(op, ConvPath.AUTO, FusedMode.ON, FusedTable.MEASURED, 1000, 500, 501, lay));
            assertEquals(0, CudaPathChooser.fusedSize(op, ConvPath.AUTO, FusedMode.OFF, FusedTable.MEASURED, 1000, 500, 501, lay));
            for (int n = 2; n <= Kernels.FUSED_MAX_N; n *= 2) {
                assertEquals(FusedTable.MEASURED.isFaster(n, lay) ? n : 0, CudaPathChooser.fusedSize(op, ConvPath.AUTO, FusedMode.AUTO, FusedTable.MEASURED, n, n / 2, n / 2 + 1, lay),
                        "AUTO under mode AUTO follows FusedTable at N=" + n + " " + lay);
            }
        }
    }

    @Test
    void fusedModeParsesThePropertyValues() {
        assertEquals(FusedMode.AUTO, FusedMode.parse(null));
        assertEquals(FusedMode.AUTO, FusedMode.parse(" auto "));
        assertEquals(FusedMode.ON, FusedMode.parse("ON"));
        assertEquals(FusedMode.OFF, FusedMode.parse("off"));
        var e = assertThrows(IllegalArgumentException.class, () -> FusedMode.parse("yes"));
        assertTrue(e.getMessage().contains("longconv.cuda.fused") && e.getMessage().contains("'yes'"), e.getMessage());
    }
}
