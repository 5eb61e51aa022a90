package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.simd.Simd;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The vector gemm at the edges BackendTest's random shapes rarely reach: m, n or k of 1, primes, tails of
 * every blocking level (mc = 1024 rows, kc = 256, nc = 256, the register tile), both ways the pool splits C
 * (rows, or columns when rows are few), transposes, and strided views (slices and transposed slices) that
 * are read in place. Checked against a float64 product of the same float32 inputs.
 */
class VectorGemmTest {
    static final long SEED = Long.getLong("longconv.test.seed", 18L);
    static VectorBackend vector;

    @BeforeAll
    static void needsVectorApi() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        vector = new VectorBackend();
    }

    /** op(x) as a row-major float64 [rows, cols] array, read element by element through the view. */
    private static double[] logical(Tensor x, boolean trans) {
        int r = Math.toIntExact(x.dim(trans ? 1 : 0)), c = Math.toIntExact(x.dim(trans ? 0 : 1));
        double[] out = new double[r * c];
        try (Tensor xc = x.contiguous()) {
            double[] v = xc.toDoubleArray();
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) out[i * c + j] = trans ? v[j * r + i] : v[i * c + j];
        }
        return out;
    }

    private static void check(Tensor a, Tensor b, boolean ta, boolean tb, String what) {
        int m = Math.toIntExact(a.dim(ta ? 1 : 0)), k = Math.toIntExact(a.dim(ta ? 0 : 1)), n = Math.toIntExact(b.dim(tb ? 0 : 1));
        double[] x = logical(a, ta), y = logical(b, tb), ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                double s = x[i * k + p];
                for (int j = 0; j < n; j++) ref[i * n + j] += s * y[p * n + j];
            }
        }
        String label = what + " m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " seed=" + SEED;
        try (Tensor c = vector.gemm(a, b, ta, tb)) {
            assertEquals(m, c.dim(0), label);
            assertEquals(n, c.dim(1), label);
            double[] got = c.toDoubleArray();
            double num = 0, den = 0;
            for (int i = 0; i < ref.length; i++) {
                num += (got[i] - ref[i]) * (got[i] - ref[i]);
                den += ref[i] * ref[i];
            }
            double err = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
            assertTrue(err <= Compare.TOL_F32, label + ": relative L2 error " + err);
        }
    }

    private static void allTransposes(int m, int n, int k, String what) {
        long seed = SEED;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                try (Tensor a = Tensor.random(DType.FLOAT32, seed++, ta ? k : m, ta ? m : k);
                     Tensor b = Tensor.random(DType.FLOAT32, seed++, tb ? n : k, tb ? k : n)) {
                    check(a, b, ta, tb, what);
                }
            }
        }
    }

    @Test
    void dimensionsOfOneAndPrimes() {
        int[][] shapes = {{1, 1, 1}, {1, 97, 1}, {97, 1, 1}, {1, 1, 97}, {1, 300, 300}, {300, 1, 300}, {2, 3, 5}, {7, 11, 13},
                {17, 19, 23}, {61, 67, 71}, {127, 131, 3}};
        for (int[] s : shapes) allTransposes(s[0], s[1], s[2], "small/prime");
    }

    @Test
    void tailsOfEveryBlockingLevel() {
        // k = 257 and 513: one and two kc slices plus one; n = 263: an nc block plus a partial tile; m = 1031: an mc block plus a tail
        allTransposes(1031, 263, 257, "past mc, nc and kc");
        allTransposes(53, 513, 513, "two kc slices plus one, columns split");
        allTransposes(47, 40, 300, "rows too few to split: columns split across threads");
    }

    /**
     * A product under {@link VectorGemm#PARALLEL_MIN_MACS} but over {@link VectorGemm#WATCHED_MIN_MACS}, called right
     * after pool work while a worker watches, is split across the pool (a watching worker takes its offer) and stays
     * exact; tried for up to 5 s, since the worker may be descheduled on a busy machine.
     */
    @Test
    void smallProductsAfterPoolWorkAreSplitAndExact() {
        assumeTrue(Parallel.size() > 1, "one thread: nothing to split");
        assumeTrue(Parallel.SPIN_NANOS > 0, "-Dlongconv.workerSpinMicros=0: no worker watches");
        assertTrue(2047L * 32 * 32 < VectorGemm.PARALLEL_MIN_MACS && 2047L * 32 * 32 >= VectorGemm.WATCHED_MIN_MACS);
        boolean split = false;
        long end = System.nanoTime() + 5_000_000_000L;
        try (Tensor big = Tensor.random(DType.FLOAT32, SEED, 256, 256); Tensor a = Tensor.random(DType.FLOAT32, SEED + 1, 2047, 32);
             Tensor b = Tensor.random(DType.FLOAT32, SEED + 2, 32, 32)) {
            double[] x = logical(a, false), y = logical(b, true), ref = new double[2047 * 32];
            for (int i = 0; i < 2047; i++) for (int p = 0; p < 32; p++) for (int j = 0; j < 32; j++) ref[i * 32 + j] += x[i * 32 + p] * y[p * 32 + j];
            for (int i = 0; !split && (i < 3 || System.nanoTime() < end); i++) {
                vector.gemm(big, big, false, true).close(); // over PARALLEL_MIN_MACS: its helper watches afterwards
                long taken = Parallel.OFFERS_TAKEN.get();
                double[] got;
                try (Tensor c = vector.gemm(a, b, false, true)) {
                    split |= Parallel.OFFERS_TAKEN.get() > taken;
                    got = c.toDoubleArray();
                }
                double num = 0, den = 0;
                for (int e = 0; e < ref.length; e++) {
                    num += (got[e] - ref[e]) * (got[e] - ref[e]);
                    den += ref[e] * ref[e];
                }
                assertTrue(Math.sqrt(num / den) <= Compare.TOL_F32, "small product after pool work, try " + i + " seed " + SEED
                        + ": relative L2 error " + Math.sqrt(num / den));
            }
        }
        assertTrue(split, "no [2047, 32] x [32, 32] product was split across the pool in 5 s of tries");
    }

    /**
     * A product called from inside a pool task (a layer's rows split across threads, each running its own GEMMs) runs
     * whole on that task's thread: the pool is busy with the outer tasks, so a split would only run its parts inline one
     * after the other, each packing B again. The same product called outside a task is split, and both are exact.
     */
    @Test
    void aProductInsideAPoolTaskIsNotSplit() {
        assumeTrue(Parallel.size() > 1, "one thread: nothing to split");
        try (Tensor a = Tensor.random(DType.FLOAT32, SEED, 300, 200); Tensor b = Tensor.random(DType.FLOAT32, SEED + 1, 250, 200)) {
            assertTrue(300L * 250 * 200 >= VectorGemm.PARALLEL_MIN_MACS);
            long before = VectorGemm.SPLITS.get();
            check(a, b, false, true, "outside a task");
            assertEquals(before + 1, VectorGemm.SPLITS.get(), "a product outside a task is split");
            java.util.concurrent.atomic.AtomicLong inside = new java.util.concurrent.atomic.AtomicLong(-1);
            Parallel.forEach(2, t -> {
                if (t != 0) return;
                long s0 = VectorGemm.SPLITS.get();
                check(a, b, false, true, "inside a task");
                inside.set(VectorGemm.SPLITS.get() - s0);
            });
            assertEquals(0, inside.get(), "products split inside a pool task");
        }
    }

    /**
     * The bias inside the product ({@link dev.longconv.ops.spi.BiasedGemm}) gives the bits of gemmInto followed by one
     * float addition per element: one thread, rows split across the pool, columns split (few rows), and over heap
     * memory (native copies); a bias shorter than N is refused.
     */
    @Test
    void biasInsideTheProductEqualsGemmThenBias() {
        int[][] shapes = {{7, 9, 5}, {300, 70, 200}, {20, 600, 300}, {1, 1, 1}};
        long seed = SEED;
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            try (Tensor a = Tensor.random(DType.FLOAT32, seed++, m, k); Tensor b = Tensor.random(DType.FLOAT32, seed++, n, k);
                 Tensor plain = Tensor.zeros(DType.FLOAT32, m, n); Tensor fused = Tensor.zeros(DType.FLOAT32, m, n)) {
                float[] bias = new float[n];
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
                for (int j = 0; j < n; j++) bias[j] = (float) rnd.nextDouble(-2, 2);
                vector.gemmInto(a, b, false, true, plain);
                float[] want = plain.toFloatArray();
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) want[i * n + j] += bias[j];
                vector.gemmInto(a, b, false, true, bias, fused);
                float[] got = fused.toFloatArray();
                String what = "m=" + m + " n=" + n + " k=" + k + " seed=" + SEED;
                for (int e = 0; e < want.length; e++) {
                    assertEquals(Float.floatToRawIntBits(want[e]), Float.floatToRawIntBits(got[e]), what + " element " + e);
                }
                float[] heapC = new float[m * n];
                try (Tensor heap = Tensor.wrap(java.lang.foreign.MemorySegment.ofArray(heapC), DType.FLOAT32, m, n)) {
                    vector.gemmInto(a, b, false, true, bias, heap);
                }
                for (int e = 0; e < want.length; e++) {
                    assertEquals(Float.floatToRawIntBits(want[e]), Float.floatToRawIntBits(heapC[e]), "heap c, " + what + " element " + e);
                }
                LongConvException ex = assertThrows(LongConvException.class, () -> vector.gemmInto(a, b, false, true, new float[n - 1], fused));
                assertTrue(ex.getMessage().contains("bias"), ex.getMessage());
            }
        }
    }

    /**
     * A's rows read from an array where they are ({@link dev.longconv.ops.spi.BiasedGemm#gemmRowsInto}) give the bits of
     * gemmInto with the bias on a tensor of the same values, from an offset into the array, B plain and transposed, with
     * and without a bias; an array too short for m rows, a B of the wrong depth and a short bias are refused.
     */
    @Test
    void rowsReadInPlaceEqualTheTensorProduct() {
        int[][] shapes = {{7, 9, 5}, {300, 70, 32}, {13, 600, 300}, {1, 1, 1}, {6, 32, 16}};
        long seed = SEED + 5;
        for (int[] s : shapes) {
            for (boolean transB : new boolean[] {true, false}) {
                int m = s[0], n = s[1], k = s[2], off = 3;
                try (Tensor a = Tensor.random(DType.FLOAT32, seed++, m, k); Tensor b = transB ? Tensor.random(DType.FLOAT32, seed++, n, k)
                        : Tensor.random(DType.FLOAT32, seed++, k, n); Tensor want = Tensor.zeros(DType.FLOAT32, m, n); Tensor got = Tensor.zeros(DType.FLOAT32, m, n)) {
                    float[] rows = new float[off + m * k + 2];
                    System.arraycopy(a.toFloatArray(), 0, rows, off, m * k);
                    float[] someBias = new float[n];
                    java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
                    for (int j = 0; j < n; j++) someBias[j] = (float) rnd.nextDouble(-2, 2);
                    for (float[] bias : new float[][] {null, someBias}) {
                        vector.gemmInto(a, b, false, transB, bias, want);
                        vector.gemmRowsInto(rows, off, m, k, b, transB, bias, got);
                        float[] w = want.toFloatArray(), g = got.toFloatArray();
                        String what = "m=" + m + " n=" + n + " k=" + k + (transB ? " NT" : " NN") + (bias == null ? "" : " with bias") + " seed=" + SEED;
                        for (int e = 0; e < w.length; e++) assertEquals(Float.floatToRawIntBits(w[e]), Float.floatToRawIntBits(g[e]), what + " element " + e);
                    }
                    assertTrue(assertThrows(LongConvException.class, () -> vector.gemmRowsInto(new float[m * k - 1], 0, m, k, b, transB, null, got))
                            .getMessage().contains("a"));
                    assertThrows(LongConvException.class, () -> vector.gemmRowsInto(rows, off, m, k + 1, b, transB, null, got));
                    assertTrue(assertThrows(LongConvException.class, () -> vector.gemmRowsInto(rows, off, m, k, b, transB, new float[n - 1], got))
                            .getMessage().contains("bias"));
                }
            }
        }
    }

    @Test
    void stridedViewsAreReadInPlace() {
        try (Tensor big = Tensor.random(DType.FLOAT32, SEED, 90, 80); Tensor bigB = Tensor.random(DType.FLOAT32, SEED + 1, 70, 110)) {
            // A: rows 3..60, columns 5..75 of a [90, 80] tensor (row stride 80); B: a slice of a [70, 110] tensor
            Tensor a = big.slice(0, 3, 60).slice(1, 5, 75);
            Tensor b = bigB.slice(1, 20, 101);
            assertTrue(!a.isContiguous() && !b.isContiguous());
            check(a, b, false, false, "sliced views");
            // transposed views of slices: a stride-1 column and a non-unit row stride
            check(a.transpose(0, 1), b, true, false, "transpose of a sliced view");
            check(a, bigB.slice(0, 0, 70).slice(1, 10, 80).transpose(0, 1), false, true, "transposed sliced B");
            // (rank-2 views with no unit stride cannot be made through Tensor's API; LaneGemmTest covers them)
        }
    }

    @Test
    void gemmIntoOverwritesAStridedViewAndNothingElse() {
        try (Tensor a = Tensor.random(DType.FLOAT32, SEED, 37, 29); Tensor b = Tensor.random(DType.FLOAT32, SEED + 1, 41, 29);
             Tensor wide = Tensor.zeros(DType.FLOAT32, 37, 50)) {
            for (long i = 0; i < wide.numel(); i++) wide.setFlat(i, Double.NaN);
            Tensor c = wide.slice(1, 5, 46); // [37, 41], row stride 50: columns 0..4 and 46..49 must stay untouched
            vector.gemmInto(a, b, false, true, c);
            try (Tensor ref = vector.gemm(a, b, false, true)) {
                for (int i = 0; i < 37; i++) {
                    for (int j = 0; j < 50; j++) {
                        if (j >= 5 && j < 46) assertEquals(ref.get(i, j - 5), wide.get(i, j), 0, "gemmInto at (" + i + ", " + (j - 5) + ")");
                        else assertTrue(Double.isNaN(wide.get(i, j)), "gemmInto wrote outside c at (" + i + ", " + j + ")");
                    }
                }
            }
        }
    }

    @Test
    void gemmIntoNamesAWrongOutput() {
        try (Tensor a = Tensor.random(DType.FLOAT32, SEED, 4, 3); Tensor b = Tensor.random(DType.FLOAT32, SEED + 1, 3, 5);
             Tensor wrongShape = Tensor.zeros(DType.FLOAT32, 5, 4); Tensor wrongType = Tensor.zeros(DType.FLOAT64, 4, 5);
             Tensor wide = Tensor.zeros(DType.FLOAT32, 5, 4)) {
            LongConvException e = assertThrows(LongConvException.class, () -> vector.gemmInto(a, b, false, false, wrongShape));
            assertTrue(e.getMessage().contains("argument c") && e.getMessage().contains("float32[4, 5]"), e.getMessage());
            assertThrows(LongConvException.class, () -> vector.gemmInto(a, b, false, false, wrongType));
            e = assertThrows(LongConvException.class, () -> vector.gemmInto(a, b, false, false, wide.transpose(0, 1)));
            assertTrue(e.getMessage().contains("unit stride"), e.getMessage());
            try (Tensor square = Tensor.random(DType.FLOAT32, SEED + 2, 4, 4)) {
                e = assertThrows(LongConvException.class, () -> vector.gemmInto(square, square, false, false, square));
                assertTrue(e.getMessage().contains("overlapping a"), e.getMessage());
                // column blocks of one tensor interleave in memory: refused too (the check compares spans, not elements)
                try (Tensor wideA = Tensor.random(DType.FLOAT32, SEED + 3, 4, 8); Tensor id = Tensor.zeros(DType.FLOAT32, 4, 4)) {
                    assertThrows(LongConvException.class, () -> vector.gemmInto(wideA.slice(1, 0, 4), id, false, false, wideA.slice(1, 4, 8)));
                }
            }
        }
    }
}
