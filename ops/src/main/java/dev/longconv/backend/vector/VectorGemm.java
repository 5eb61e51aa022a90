package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Check;
import dev.longconv.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Float32 C = op(A) op(B) with FMA: op(A) and op(B) are packed row-major once (which also resolves
 * the transposes), then 4-row by 2-vector register tiles accumulate over K, rows split across the
 * pool. Column tails that do not fill a vector go through a scalar loop.
 */
final class VectorGemm {
    /** A static final species, so C2 emits vector instructions (a species in a parameter or field boxes). */
    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;

    private VectorGemm() {}

    static Tensor multiply(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g) {
        int m = g.m(), n = g.n(), k = g.k(), w = Lanes.W;
        float[] am = new float[Math.multiplyExact(m, k)], bm = new float[Math.multiplyExact(k, n)];
        pack(a, transA, m, k, am);
        pack(b, transB, k, n, bm);
        float[] c = new float[Math.multiplyExact(m, n)];
        int rowBlocks = (m + 3) / 4;
        Parallel.forEach(rowBlocks, rb -> {
            int i0 = rb * 4, rows = Math.min(4, m - i0);
            int j = 0;
            if (rows == 4) {
                for (; j + 2 * w <= n; j += 2 * w) tile4x2(am, bm, c, i0, j, k, n);
            }
            for (; j + w <= n; j += w) {
                for (int i = i0; i < i0 + rows; i++) {
                    FloatVector acc = FloatVector.zero(SPECIES);
                    for (int p = 0; p < k; p++) acc = FloatVector.fromArray(SPECIES, bm, p * n + j).fma(FloatVector.broadcast(SPECIES, am[i * k + p]), acc);
                    acc.intoArray(c, i * n + j);
                }
            }
            for (; j < n; j++) {
                for (int i = i0; i < i0 + rows; i++) {
                    float acc = 0;
                    for (int p = 0; p < k; p++) acc = Math.fma(am[i * k + p], bm[p * n + j], acc);
                    c[i * n + j] = acc;
                }
            }
        });
        Tensor out = Tensor.zeros(DType.FLOAT32, m, n);
        MemorySegment.copy(c, 0, out.segment(), (ValueLayout.OfFloat) DType.FLOAT32.layout(), 0, c.length);
        return out;
    }

    private static void tile4x2(float[] am, float[] bm, float[] c, int i0, int j, int k, int n) {
        int w = Lanes.W;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int a0 = i0 * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        for (int p = 0; p < k; p++) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, bm, p * n + j), b1 = FloatVector.fromArray(SPECIES, bm, p * n + j + w);
            FloatVector x0 = FloatVector.broadcast(SPECIES, am[a0 + p]), x1 = FloatVector.broadcast(SPECIES, am[a1 + p]);
            FloatVector x2 = FloatVector.broadcast(SPECIES, am[a2 + p]), x3 = FloatVector.broadcast(SPECIES, am[a3 + p]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
        }
        int r0 = i0 * n + j;
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + w);
        c10.intoArray(c, r0 + n);
        c11.intoArray(c, r0 + n + w);
        c20.intoArray(c, r0 + 2 * n);
        c21.intoArray(c, r0 + 2 * n + w);
        c30.intoArray(c, r0 + 3 * n);
        c31.intoArray(c, r0 + 3 * n + w);
    }

    /** op(t) as a row-major rows x cols float array. */
    private static void pack(Tensor t, boolean trans, int rows, int cols, float[] dst) {
        try (Tensor c = t.contiguous()) {
            float[] src = c.toFloatArray(); // C order of t: [rows, cols], or [cols, rows] when transposed
            if (!trans) {
                System.arraycopy(src, 0, dst, 0, src.length);
                return;
            }
            for (int i = 0; i < cols; i++) for (int j = 0; j < rows; j++) dst[j * cols + i] = src[i * rows + j];
        }
    }
}
