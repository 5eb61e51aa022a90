package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.simd.Simd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;

/**
 * Tensor plumbing shared by the TNN layers: parameter lookup with shape checks, bulk copies between
 * tensors and double arrays (one memory copy instead of an index computation per element), and
 * float64 GEMMs on arrays for the small MLP parts.
 */
final class TnoTensors {
    private static final boolean VECTOR = Simd.status().available();

    private TnoTensors() {}

    /** The parameter {@code name} of {@code params}, checked to be float32/float64 of {@code shape}. */
    static Tensor require(String layer, Map<String, Tensor> params, String name, long... shape) {
        Tensor t = params.get(name);
        if (t == null) throw new LongConvException(layer, name, "parameter '" + name + "' is missing (have " + params.keySet() + ")");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new LongConvException(layer, name, "shape " + Arrays.toString(shape), Arrays.toString(t.shape()));
        }
        if (!t.isAlive()) throw new LongConvException(layer, name, "a live tensor", "a closed one");
        return t;
    }

    /**
     * t in dtype dt, contiguous, to close after use: a view of t itself when it already is both (nothing allocated or
     * copied: a weight read every call would otherwise cost a fresh copy and its page faults), else a converted copy.
     */
    static Tensor inDtype(Tensor t, DType dt) {
        return t.dtype() == dt ? t.contiguous() : t.to(dt);
    }

    /** All elements in C order as doubles. */
    static double[] read(Tensor t) {
        if (!t.isContiguous()) return t.toDoubleArray();
        MemorySegment s = t.segment();
        if (t.dtype() == DType.FLOAT64) return s.toArray((ValueLayout.OfDouble) DType.FLOAT64.layout());
        float[] f = s.toArray((ValueLayout.OfFloat) DType.FLOAT32.layout());
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[i];
        return out;
    }

    /** A new tensor of {@code dtype} holding {@code data} (C order, rounded to the dtype). */
    static Tensor write(double[] data, DType dtype, long... shape) {
        if (dtype == DType.FLOAT64) return Tensor.of(data, shape);
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return Tensor.of(f, shape);
    }

    /**
     * y[M, N] = x[M, K] W[N, K]^T (+ b[N]) through the backend's GEMM in {@code dtype}: the layer input's, as
     * upstream runs its Linear layers in the model dtype (float64 GEMMs run on the scalar path).
     */
    static double[] linear(Backend be, DType dtype, double[] x, int m, int k, double[] w, int n, double[] b) {
        double[] y;
        if (k == 1) { // pos_proj: an outer product, not worth a GEMM
            y = new double[m * n];
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) y[i * n + j] = x[i] * w[j];
        } else {
            try (Tensor xt = write(x, dtype, m, k); Tensor wt = write(w, dtype, n, k); Tensor yt = be.gemm(xt, wt, false, true)) {
                y = read(yt);
            }
        }
        if (b != null) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) y[i * n + j] += b[j];
        return y;
    }

    /** op(A) op(B) for row-major arrays through the backend's GEMM in {@code dtype}; A is [ra, ca], B is [rb, cb] as stored. */
    static double[] gemm(Backend be, DType dtype, double[] a, int ra, int ca, boolean transA, double[] b, int rb, int cb, boolean transB) {
        try (Tensor at = write(a, dtype, ra, ca); Tensor bt = write(b, dtype, rb, cb); Tensor c = be.gemm(at, bt, transA, transB)) {
            return read(c);
        }
    }

    /** Column sums of a row-major [m, n] array. */
    static double[] columnSums(double[] a, int m, int n) {
        double[] s = new double[n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) s[j] += a[i * n + j];
        return s;
    }

    /** Overwrites the contiguous tensor {@code t} with {@code data} (C order, rounded to t's dtype). */
    static void store(Tensor t, double[] data) {
        MemorySegment s = t.segment();
        if (t.dtype() == DType.FLOAT64) {
            MemorySegment.copy(data, 0, s, (ValueLayout.OfDouble) DType.FLOAT64.layout(), 0, data.length);
        } else {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
            MemorySegment.copy(f, 0, s, (ValueLayout.OfFloat) DType.FLOAT32.layout(), 0, f.length);
        }
    }

    /**
     * A float32 x [B, H, L, d] as a new [B, L, H·d] (channel h·d + c, the operator's layout) when {@code toTokens}, or
     * such a y [B, L, H·d] back as a new [B, H, L, d]: copies of runs of d values, no arithmetic. In {@code arena}
     * where it is not null, else in memory of its own.
     */
    static Tensor permuteHeads(Tensor x, int b, int h, int len, int d, boolean toTokens, Arena arena) {
        if (x.dtype() != DType.FLOAT32) throw new IllegalArgumentException("permuteHeads copies float32 runs, got " + x.dtype());
        long[] shape = toTokens ? new long[] {b, len, (long) h * d} : new long[] {b, h, len, d};
        Tensor out = arena == null ? Tensor.zeros(DType.FLOAT32, shape) : ScratchArena.unfilled(arena, DType.FLOAT32, shape); // every run copied
        try (Tensor xc = x.contiguous()) {
            MemorySegment src = xc.segment(), dst = out.segment();
            if (VECTOR && VectorActivations.permuteRuns(src, dst, b, h, len, d, toTokens)) return out;
            long run = (long) d * Float.BYTES;
            for (int bi = 0; bi < b; bi++) {
                for (int hi = 0; hi < h; hi++) {
                    for (int t = 0; t < len; t++) {
                        long heads = (((long) bi * h + hi) * len + t) * run, tokens = (((long) bi * len + t) * h + hi) * run;
                        MemorySegment.copy(src, toTokens ? heads : tokens, dst, toTokens ? tokens : heads, run);
                    }
                }
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** [B, H, L, d] to [B, L, H*d] (channel h*d + c), the layout of the TNO's Toeplitz products. */
    static double[] headsToTokens(double[] x, int b, int h, int len, int d) {
        double[] out = new double[x.length];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < h; j++)
                for (int t = 0; t < len; t++)
                    System.arraycopy(x, ((i * h + j) * len + t) * d, out, ((i * len + t) * h + j) * d, d);
        return out;
    }

    /** The inverse of {@link #headsToTokens}. */
    static double[] tokensToHeads(double[] x, int b, int h, int len, int d) {
        double[] out = new double[x.length];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < h; j++)
                for (int t = 0; t < len; t++)
                    System.arraycopy(x, ((i * len + t) * h + j) * d, out, ((i * h + j) * len + t) * d, d);
        return out;
    }
}
