package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.simd.FftSizes;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.Simd;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Every op of every backend (the vector one at each width this CPU runs) against the float64
 * reference at seeded random shapes: prime and odd lengths, L = 1, D = 1, channel counts that leave
 * vector tails, kernels longer than L, both layouts, both dtypes.
 * Set -Dlongconv.test.seed=N to change the seed; each failure message names its case seed.
 */
class BackendTest {
    static final long SEED = Long.getLong("longconv.test.seed", 20261122L);
    static final int[] LENGTHS = {1, 2, 3, 5, 8, 13, 31, 64, 97, 128, 129, 251, 500, 1031};
    static final ConcurrentHashMap<String, Double> WORST = new ConcurrentHashMap<>();

    record Case(Backend backend, long seed, DType dtype, Layout layout, int batch, int channels, int length) {
        @Override
        public String toString() {
            return label(backend) + " seed=" + seed + " " + dtype + " " + layout + " B=" + batch + " D=" + channels + " L=" + length;
        }
    }

    static String label(Backend b) {
        return b instanceof VectorBackend ? "vector" + Lanes.bits() : b.name();
    }

    /**
     * scalar, and vector when the Vector API is usable, at this JVM's width: the build runs the vector
     * tests again with -Dlongconv.vectorBits=128 (one width per JVM, since the species is a constant).
     */
    static List<Backend> backends() {
        List<Backend> out = new ArrayList<>(List.of(new ScalarBackend()));
        if (Simd.status().available()) out.add(new VectorBackend());
        // on a machine with a GPU the same cases run on it too (host tensors in, host tensors out);
        // CudaParityTest is the suite that always shows, as skipped where there is no GPU
        if (Backends.statuses().stream().anyMatch(s -> s.name().equals("cuda") && s.available())) out.add(Backends.get("cuda"));
        return out;
    }

    /** The cuda backend computes in float32 only (and rejects float64, see CudaParityTest). */
    static boolean runs(Backend be, DType dtype) {
        return !(be.name().equals("cuda") && dtype == DType.FLOAT64);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : backends()) {
            SplittableRandom rng = new SplittableRandom(SEED);
            for (int len : LENGTHS) {
                for (DType dt : DType.values()) {
                    for (Layout lay : Layout.values()) {
                        int b = 1 + rng.nextInt(3), d = rng.nextInt(4) == 0 ? 1 : 1 + rng.nextInt(19);
                        long seed = rng.nextLong();
                        if (runs(be, dt)) out.add(Arguments.of(new Case(be, seed, dt, lay, b, d, len)));
                    }
                }
            }
        }
        return out.stream();
    }

    private static Tensor x(Case c) {
        return Tensor.random(c.dtype, c.seed, c.layout.seqShape(c.batch, c.channels, c.length));
    }

    private static Tensor kernel(Case c, int taps, long salt) {
        return Tensor.random(c.dtype, c.seed ^ salt, c.layout.kernelShape(c.channels, taps));
    }

    private static void check(String op, Case c, Tensor actual, Tensor expected) {
        try (actual; expected) {
            double err = Compare.assertClose(actual, expected, c.dtype, op + " " + c);
            WORST.merge(label(c.backend) + " " + op.split(" ")[0] + " " + c.dtype, err, Math::max);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void causalConv(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed);
        // Short, medium, equal and longer-than-L kernels: both the direct and the FFT path.
        for (int taps : new int[] {1, 1 + r.nextInt(4), Math.max(1, c.length / 3), c.length, c.length + 1 + r.nextInt(7)}) {
            try (Tensor x = x(c); Tensor k = kernel(c, taps, 1)) {
                check("causal-conv Lk=" + taps, c, c.backend.causalConv(x, k, c.layout), Reference.causalConv(x, k, c.layout));
                checkInto("causal-conv Lk=" + taps, c, x, (in, y) -> c.backend.causalConvInto(in, k, c.layout, y), Reference.causalConv(x, k, c.layout));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void toeplitzConv(Case c) {
        try (Tensor x = x(c); Tensor k = kernel(c, 2 * c.length - 1, 2)) {
            check("toeplitz-conv", c, c.backend.toeplitzConv(x, k, c.layout), Reference.toeplitzConv(x, k, c.layout));
            checkInto("toeplitz-conv", c, x, (in, y) -> c.backend.toeplitzConvInto(in, k, c.layout, y), Reference.toeplitzConv(x, k, c.layout));
        }
    }

    /**
     * An op's Into form against the reference, writing over three outputs: a fresh tensor filled with NaN (so an element
     * left unwritten shows), a copy of x in place, and a strided view (the other layout's memory, transposed, sliced
     * from a longer sequence).
     */
    private static void checkInto(String op, Case c, Tensor x, java.util.function.BiConsumer<Tensor, Tensor> into, Tensor expected) {
        try (expected; Tensor fresh = Tensor.zeros(c.dtype, x.shape()); Tensor inPlace = x.copy();
             Tensor other = Tensor.zeros(c.dtype, (c.layout == Layout.BDL ? Layout.BLD : Layout.BDL).seqShape(c.batch, c.channels, c.length + 3))) {
            for (long i = 0; i < fresh.numel(); i++) fresh.setFlat(i, Double.NaN);
            into.accept(x, fresh);
            check(op + " into a fresh y", c, fresh.copy(), expected.copy());
            into.accept(inPlace, inPlace);
            check(op + " in place", c, inPlace.copy(), expected.copy());
            Tensor strided = other.slice(c.layout == Layout.BDL ? 1 : 2, 2, c.length + 2).transpose(1, 2);
            into.accept(x, strided);
            check(op + " into a strided y", c, strided.copy(), expected.copy());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shortConv(Case c) {
        for (ShortConvMode mode : ShortConvMode.values()) {
            for (int w : new int[] {1, 3, 4, 17}) {
                if (mode == ShortConvMode.SAME && w % 2 == 0) continue;
                try (Tensor x = x(c); Tensor k = kernel(c, w, 3); Tensor bias = Tensor.random(c.dtype, c.seed ^ 4, c.channels)) {
                    check("short-conv " + mode + " W=" + w, c, c.backend.shortConv(x, k, bias, mode, c.layout),
                            Reference.shortConv(x, k, bias, mode, c.layout));
                    check("short-conv no bias " + mode + " W=" + w, c, c.backend.shortConv(x, k, null, mode, c.layout),
                            Reference.shortConv(x, k, null, mode, c.layout));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ski(Case c) {
        for (int r : new int[] {2, 3, 5, 32, 64, 97}) {
            try (Tensor x = x(c); Tensor kr = kernel(c, 2 * r - 1, 5)) {
                check("ski r=" + r, c, c.backend.ski(x, kr, c.layout), Reference.ski(x, kr, c.layout));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void causalSpectrum(Case c) {
        // Any even N, and a fast one (N/2 = 2^a 3^b 5^c), which the vector backend transforms in lanes.
        for (int n : new int[] {2 * ((c.length + 1) / 2), 2 * FftSizes.nextFast(Math.max(1, c.length / 2))}) {
            try (Tensor re = Tensor.random(c.dtype, c.seed, c.channels, n / 2 + 1)) {
                check("causal-spectrum N=" + n, c, c.backend.causalSpectrum(re, n), Reference.causalSpectrum(re, n));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rfftAndIrfft(Case c) {
        if (c.layout == Layout.BLD) return; // no layout: one run per dtype and length is enough
        for (int n : new int[] {c.length, c.length + 3, Math.max(1, c.length / 2), 2 * FftSizes.nextFast((c.length + 1) / 2)}) {
            try (Tensor x = Tensor.random(c.dtype, c.seed, c.batch, c.channels, c.length)) {
                check("rfft n=" + n, c, c.backend.rfft(x, n), Reference.rfft(x, n));
            }
            try (Tensor s = Tensor.random(c.dtype, c.seed, c.batch, c.channels, c.length / 2 + 1, 2)) {
                check("irfft n=" + n, c, c.backend.irfft(s, n), Reference.irfft(s, n));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gemm(Case c) {
        if (c.length > 251) return; // the triple-loop reference is O(n^3)
        SplittableRandom r = new SplittableRandom(c.seed);
        int m = 1 + r.nextInt(c.length + 1), n = c.length, k = 1 + r.nextInt(40);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                try (Tensor a = Tensor.random(c.dtype, c.seed, ta ? k : m, ta ? m : k);
                     Tensor b = Tensor.random(c.dtype, c.seed ^ 9, tb ? n : k, tb ? k : n)) {
                    check("gemm ta=" + ta + " tb=" + tb, c, c.backend.gemm(a, b, ta, tb), Reference.gemm(a, b, ta, tb));
                }
            }
        }
    }

    @AfterAll
    static void report() {
        System.out.println("worst relative L2 error per backend, op and dtype (seed " + SEED + "):");
        WORST.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> System.out.printf("  %-40s %.3e%n", e.getKey(), e.getValue()));
    }

}
