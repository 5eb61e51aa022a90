package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** The dense steps layers share: projections through the backend's gemm, casts, in-place sums. */
final class LayerMath {
    private LayerMath() {}

    /** x [..., K] times w [K, N] (w [N, K] when {@code transW}): a new [..., N] tensor in x's dtype. */
    static Tensor matmul(Backend backend, Tensor x, Tensor w, boolean transW) {
        long k = x.dim(x.rank() - 1);
        try (Tensor xc = x.contiguous(); Tensor wc = cast(w, x.dtype())) {
            Tensor flat = backend.gemm(xc.reshape(-1, k), wc, false, transW);
            long[] shape = x.shape();
            shape[shape.length - 1] = flat.dim(1);
            return flat.reshapeOwned(shape);
        }
    }

    /** t in dtype d: a non-owning view when it already is (and contiguous), else an owned copy. Close either way. */
    static Tensor cast(Tensor t, DType d) {
        return t.dtype() == d ? t.contiguous() : t.to(d);
    }

    /** acc += scale * t, elementwise; both contiguous with the same shape and dtype. */
    static void addInto(Tensor acc, Tensor t, double scale) {
        if (!Arrays.equals(acc.shape(), t.shape()) || acc.dtype() != t.dtype()) {
            throw new IllegalArgumentException("addInto: " + acc + " vs " + t);
        }
        MemorySegment a = acc.segment(), b = t.segment();
        long n = acc.numel();
        if (acc.dtype() == DType.FLOAT32) {
            float s = (float) scale;
            for (long i = 0; i < n; i++) {
                a.setAtIndex(ValueLayout.JAVA_FLOAT, i, a.getAtIndex(ValueLayout.JAVA_FLOAT, i) + s * b.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        } else {
            for (long i = 0; i < n; i++) {
                a.setAtIndex(ValueLayout.JAVA_DOUBLE, i, a.getAtIndex(ValueLayout.JAVA_DOUBLE, i) + scale * b.getAtIndex(ValueLayout.JAVA_DOUBLE, i));
            }
        }
    }

    /** A new tensor of {@code shape} in dtype d holding {@code values} (C order). */
    static Tensor of(DType d, double[] values, long... shape) {
        Tensor t = Tensor.zeros(d, shape);
        MemorySegment s = t.segment();
        if (d == DType.FLOAT32) for (int i = 0; i < values.length; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) values[i]);
        else MemorySegment.copy(values, 0, s, ValueLayout.JAVA_DOUBLE, 0, values.length);
        return t;
    }

    /** [n, m] to [m, n], a new contiguous tensor. */
    static Tensor transposed(Tensor t) {
        return t.transpose(0, 1).copy();
    }

    /** Row s of t [n, m] times c[s], in place (t contiguous). */
    static void scaleRows(Tensor t, double[] c) {
        MemorySegment a = t.segment();
        long m = t.dim(1);
        for (int r = 0; r < c.length; r++) {
            for (long j = r * m, e = j + m; j < e; j++) {
                if (t.dtype() == DType.FLOAT32) a.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) (c[r] * a.getAtIndex(ValueLayout.JAVA_FLOAT, j)));
                else a.setAtIndex(ValueLayout.JAVA_DOUBLE, j, c[r] * a.getAtIndex(ValueLayout.JAVA_DOUBLE, j));
            }
        }
    }

    /** Copies src's elements into dst: both contiguous, same dtype and element count. */
    static void copyInto(Tensor dst, Tensor src) {
        if (dst.numel() != src.numel() || dst.dtype() != src.dtype()) throw new IllegalArgumentException("copyInto: " + dst + " <- " + src);
        MemorySegment.copy(src.segment(), 0, dst.segment(), 0, src.numel() * src.dtype().byteSize());
    }

    /** Overwrites contiguous t with {@code values} (C order), rounding to t's dtype. */
    static void write(Tensor t, double[] values) {
        MemorySegment s = t.segment();
        if (t.dtype() == DType.FLOAT32) for (int i = 0; i < values.length; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) values[i]);
        else MemorySegment.copy(values, 0, s, ValueLayout.JAVA_DOUBLE, 0, values.length);
    }
}
