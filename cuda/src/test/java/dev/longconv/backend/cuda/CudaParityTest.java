package dev.longconv.backend.cuda;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.cuda.CudaException;
import dev.longconv.cuda.MemInfo;
import dev.longconv.ops.Backends;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;
import dev.longconv.ops.Reference;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU/GPU parity suite: every op of the cuda backend, forward and backward, on device tensors at seeded
 * random shapes (prime lengths, both layouts, batches and channel counts that do not divide the kernels'
 * tiles), against the float64 reference; relative L2 at most 1e-5. Every result is poisoned with NaN before
 * the kernels run, so an element they do not write fails the comparison. Then the error paths: bad
 * arguments rejected before any launch, an allocation beyond free memory, and device memory unchanged after
 * 1,000 calls. Skipped, with the reason, where no GPU can run it. {@code -Dlongconv.test.seed=N} changes the seed.
 */
class CudaParityTest extends CudaTestGpu {
    static final long SEED = Long.getLong("longconv.test.seed", 20261122L);
    static final ConcurrentHashMap<String, Double> WORST = new ConcurrentHashMap<>();

    /** Per test rather than per class, so that each test is reported as skipped, with the reason. */
    @BeforeEach
    void skipWithoutGpu() {
        needsGpu();
    }

    @AfterAll
    static void report() {
        if (cuda != null) cuda.setPoisonOutputs(false);
        report("cuda parity", SEED, WORST);
    }

    record Case(long seed, Layout layout, int batch, int channels, int length) {
        @Override
        public String toString() {
            return "seed=" + seed + " " + layout + " B=" + batch + " D=" + channels + " L=" + length;
        }

        long[] seq() {
            return layout.seqShape(batch, channels, length);
        }

        long[] kernel(long taps) {
            return layout.kernelShape(channels, taps);
        }
    }

    static List<Case> cases() {
        SplittableRandom r = new SplittableRandom(SEED);
        List<Case> out = new ArrayList<>();
        for (int len : new int[] {1, 2, 3, 31, 97, 127, 257, 499, 1031, 2053}) {
            for (Layout lay : Layout.values()) {
                int b = 1 + r.nextInt(5), d = new int[] {1, 3, 7, 33, 65}[r.nextInt(5)];
                if ((long) b * d * len > 200_000) d = 3; // the float64 reference is O(L^2) per row
                out.add(new Case(r.nextLong(), lay, b, d, len));
            }
        }
        out.add(new Case(r.nextLong(), Layout.BDL, 2, 3, 16411)); // a long prime length, one case per layout
        out.add(new Case(r.nextLong(), Layout.BLD, 3, 2, 16411));
        return out;
    }

    private static Tensor rnd(long seed, long... shape) {
        return Tensor.random(DType.FLOAT32, seed, shape);
    }

    /** Runs {@code op} on device copies of {@code hostArgs} and compares its host copy with {@code expected}. */
    private static void check(String what, Case c, Tensor expected, Supplier<Tensor> op) {
        try (expected; Tensor onGpu = op.get()) {
            assertEquals(gpu, onGpu.device(), what + ": the result stays on the GPU");
            try (Tensor back = onGpu.to(Device.CPU)) {
                double err = Compare.assertClose(back, expected, DType.FLOAT32, what + " " + c);
                WORST.merge(what.split(" ")[0], err, Math::max);
            }
        }
    }

    private static void checkGrads(String what, Case c, Grads expected, Supplier<Grads> op) {
        try (expected; Grads g = op.get()) {
            for (int i = 0; i < 3; i++) {
                Tensor e = i == 0 ? expected.dx() : i == 1 ? expected.dk() : expected.dbias();
                Tensor a = i == 0 ? g.dx() : i == 1 ? g.dk() : g.dbias();
                String name = what + (i == 0 ? " dx" : i == 1 ? " dk" : " dbias");
                if (e == null) {
                    assertNull(a, name);
                    continue;
                }
                assertEquals(gpu, a.device(), name + ": the gradient stays on the GPU");
                try (Tensor back = a.to(Device.CPU)) {
                    WORST.merge(name.split(" ")[0] + name.substring(name.lastIndexOf(' ')), Compare.assertClose(back, e, DType.FLOAT32, name + " " + c),
                            Math::max);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void causalConv(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed);
        for (int taps : new int[] {1, 1 + r.nextInt(5), Math.max(1, c.length / 3), c.length, c.length + 1 + r.nextInt(7)}) {
            try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel(taps)); Tensor gy = rnd(c.seed + 2, c.seq());
                 Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor gd = gy.to(gpu)) {
                check("causal-conv Lk=" + taps, c, Reference.causalConv(x, k, c.layout), () -> cuda.causalConv(xd, kd, c.layout));
                checkGrads("causal-conv-backward Lk=" + taps, c, Reference.causalConvBackward(x, k, gy, c.layout),
                        () -> cuda.causalConvBackward(xd, kd, gd, c.layout));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gatedPlanWritesEveryOutput(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed);
        int taps = 1 + r.nextInt(c.length);
        for (int mask = 0; mask < 8; mask++) {
            try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel(taps));
                 Tensor pre = (mask & 1) != 0 ? rnd(c.seed + 2, c.seq()) : null; Tensor post = (mask & 2) != 0 ? rnd(c.seed + 3, c.seq()) : null;
                 Tensor skip = (mask & 4) != 0 ? rnd(c.seed + 4, c.channels) : null;
                 Tensor nan = Tensor.zeros(DType.FLOAT32, c.seq());
                 Tensor expected = Reference.gatedCausalConv(x, k, pre, post, skip, c.layout)) {
                for (long i = 0; i < nan.numel(); i++) nan.setFlat(i, Double.NaN);
                try (Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor pd = pre == null ? null : pre.to(gpu);
                     Tensor qd = post == null ? null : post.to(gpu); Tensor sd = skip == null ? null : skip.to(gpu); Tensor yd = nan.to(gpu);
                     ConvPlan plan = cuda.causalConvPlan(kd, c.length, c.layout)) {
                    plan.applyGatedInto(xd, pd, qd, sd, yd, c.layout);
                    plan.applyGatedInto(xd, pd, qd, sd, yd, c.layout); // a plan is reusable
                    try (Tensor back = yd.to(Device.CPU)) {
                        WORST.merge("gated-plan", Compare.assertClose(back, expected, DType.FLOAT32, "gated plan gates=" + mask + " " + c), Math::max);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void toeplitzConv(Case c) {
        try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel(2L * c.length - 1)); Tensor gy = rnd(c.seed + 2, c.seq());
             Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor gd = gy.to(gpu)) {
            check("toeplitz-conv", c, Reference.toeplitzConv(x, k, c.layout), () -> cuda.toeplitzConv(xd, kd, c.layout));
            checkGrads("toeplitz-conv-backward", c, Reference.toeplitzConvBackward(x, k, gy, c.layout),
                    () -> cuda.toeplitzConvBackward(xd, kd, gd, c.layout));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shortConv(Case c) {
        for (ShortConvMode mode : ShortConvMode.values()) {
            for (int w : new int[] {1, 3, 4, 17, 64, 255, 256}) {
                if (mode == ShortConvMode.SAME && w % 2 == 0) continue;
                for (boolean withBias : new boolean[] {true, false}) {
                    try (Tensor x = rnd(c.seed, c.seq()); Tensor k = rnd(c.seed + 1, c.kernel(w)); Tensor gy = rnd(c.seed + 2, c.seq());
                         Tensor bias = withBias ? rnd(c.seed + 3, c.channels) : null;
                         Tensor xd = x.to(gpu); Tensor kd = k.to(gpu); Tensor gd = gy.to(gpu); Tensor bd = bias == null ? null : bias.to(gpu)) {
                        String what = "short-conv " + mode + " W=" + w + (withBias ? "" : " no bias");
                        check(what, c, Reference.shortConv(x, k, bias, mode, c.layout), () -> cuda.shortConv(xd, kd, bd, mode, c.layout));
                        checkGrads("short-conv-backward " + mode + " W=" + w, c, Reference.shortConvBackward(x, k, bias, mode, gy, c.layout),
                                () -> cuda.shortConvBackward(xd, kd, bd, mode, gd, c.layout));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ski(Case c) {
        for (int r : new int[] {2, 3, 5, 32, 97, 300}) {
            try (Tensor x = rnd(c.seed, c.seq()); Tensor kr = rnd(c.seed + 1, c.kernel(2L * r - 1)); Tensor gy = rnd(c.seed + 2, c.seq());
                 Tensor xd = x.to(gpu); Tensor kd = kr.to(gpu); Tensor gd = gy.to(gpu)) {
                check("ski r=" + r, c, Reference.ski(x, kr, c.layout), () -> cuda.ski(xd, kd, c.layout));
                checkGrads("ski-backward r=" + r, c, Reference.skiBackward(x, kr, gy, c.layout), () -> cuda.skiBackward(xd, kd, gd, c.layout));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void spectra(Case c) {
        if (c.layout == Layout.BLD || c.length > 5000) return; // no layout here; the O(N^2) reference DFT bounds N
        for (int n : new int[] {1, 2, c.length, c.length + 3, Math.max(1, c.length / 2), 2 * c.length + 2}) {
            try (Tensor x = rnd(c.seed, c.batch, c.channels, c.length); Tensor xd = x.to(gpu)) {
                check("rfft n=" + n, c, Reference.rfft(x, n), () -> cuda.rfft(xd, n));
            }
            try (Tensor s = rnd(c.seed + 1, c.batch, c.channels, c.length / 2 + 1, 2); Tensor sd = s.to(gpu)) {
                check("irfft n=" + n, c, Reference.irfft(s, n), () -> cuda.irfft(sd, n));
            }
            if (n % 2 == 0) {
                try (Tensor re = rnd(c.seed + 2, c.channels, n / 2 + 1); Tensor rd = re.to(gpu)) {
                    check("causal-spectrum N=" + n, c, Reference.causalSpectrum(re, n), () -> cuda.causalSpectrum(rd, n));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gemm(Case c) {
        if (c.length > 600) return; // the triple-loop reference is O(n^3)
        SplittableRandom r = new SplittableRandom(c.seed);
        int m = 1 + r.nextInt(c.length + 40), n = c.length, k = 1 + r.nextInt(300);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                try (Tensor a = rnd(c.seed, ta ? k : m, ta ? m : k); Tensor b = rnd(c.seed + 1, tb ? n : k, tb ? k : n);
                     Tensor ad = a.to(gpu); Tensor bd = b.to(gpu)) {
                    check("gemm ta=" + ta + " tb=" + tb, c, Reference.gemm(a, b, ta, tb), () -> cuda.gemm(ad, bd, ta, tb));
                }
            }
        }
    }

    @Test
    void hostTensorsComeBackOnTheHost() {
        try (Tensor x = rnd(SEED, 2, 5, 77); Tensor k = rnd(SEED + 1, 5, 77); Tensor y = cuda.causalConv(x, k, Layout.BDL);
             Tensor expected = Reference.causalConv(x, k, Layout.BDL)) {
            assertEquals(Device.CPU, y.device());
            Compare.assertClose(y, expected, DType.FLOAT32, "causal-conv on host tensors");
        }
    }

    @Test
    void badArgumentsAreRejectedBeforeAnyLaunch() {
        try (Tensor x = rnd(SEED, 2, 4, 16).to(gpu); Tensor k = rnd(SEED, 4, 16); Tensor kd = k.to(gpu);
             Tensor x64 = Tensor.random(DType.FLOAT64, SEED, 2, 4, 16).to(gpu); Tensor k64 = Tensor.random(DType.FLOAT64, SEED, 4, 16).to(gpu);
             Tensor wide = rnd(SEED, 4, 257).to(gpu); Tensor badK = rnd(SEED, 5, 16).to(gpu)) {
            var e = assertThrows(LongConvException.class, () -> cuda.causalConv(x, k, Layout.BDL));
            assertTrue(e.getMessage().contains("device"), e.getMessage());
            e = assertThrows(LongConvException.class, () -> cuda.causalConv(x64, k64, Layout.BDL));
            assertTrue(e.getMessage().contains("float32"), e.getMessage());
            e = assertThrows(LongConvException.class, () -> cuda.shortConv(x, wide, null, ShortConvMode.CAUSAL, Layout.BDL));
            assertEquals("w", e.argument());
            e = assertThrows(LongConvException.class, () -> cuda.causalConv(x, badK, Layout.BDL));
            assertEquals("k", e.argument());
            e = assertThrows(LongConvException.class, () -> Backends.get("scalar").causalConv(x, kd, Layout.BDL));
            assertTrue(e.getMessage().contains("device cpu"), e.getMessage());
            // and the backend still works
            try (Tensor y = cuda.causalConv(x, kd, Layout.BDL)) {
                assertEquals(gpu, y.device());
            }
        }
    }

    @Test
    void anAllocationBeyondFreeMemoryFailsCleanlyAndTheNextCallWorks() {
        long free = MemInfo.current().freeBytes();
        var e = assertThrows(CudaException.class, () -> Tensor.empty(gpu, DType.FLOAT32, free / 4 + (1L << 30)));
        assertTrue(e.errorName().contains("MemoryAllocation"), e.getMessage());
        try (Tensor x = rnd(SEED, 1, 3, 50); Tensor k = rnd(SEED + 1, 3, 50); Tensor y = cuda.causalConv(x, k, Layout.BDL);
             Tensor expected = Reference.causalConv(x, k, Layout.BDL)) {
            Compare.assertClose(y, expected, DType.FLOAT32, "causal-conv after a failed allocation");
        }
    }

    @Test
    void deviceMemoryIsTheSameAfterAThousandCalls() {
        try (Tensor x = rnd(SEED, 4, 16, 1000).to(gpu); Tensor k = rnd(SEED + 1, 16, 1000).to(gpu); Tensor w = rnd(SEED + 2, 16, 7).to(gpu);
             Tensor kr = rnd(SEED + 3, 16, 63).to(gpu)) {
            Runnable calls = () -> {
                try (Tensor a = cuda.causalConv(x, k, Layout.BDL); Tensor b = cuda.shortConv(x, w, null, ShortConvMode.CAUSAL, Layout.BDL);
                     Tensor c = cuda.ski(x, kr, Layout.BDL); Grads g = cuda.causalConvBackward(x, k, a, Layout.BDL)) {
                    assertEquals(gpu, c.device());
                }
            };
            calls.run(); // scratch and plans reach their size
            cuda.synchronize();
            long before = MemInfo.current().freeBytes();
            for (int i = 0; i < 1000; i++) calls.run();
            cuda.synchronize();
            long after = MemInfo.current().freeBytes();
            assertEquals(before, after, "free device memory before and after 1,000 calls (bytes)");
        }
    }
}
