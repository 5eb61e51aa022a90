package dev.longconv.ops;

import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Plans;

/**
 * One implementation of every op. The definitions are those of {@link dev.longconv.ops.Reference};
 * results have the input's dtype and layout and are new tensors the caller owns (close them).
 * Bad arguments throw {@link dev.longconv.LongConvException}.
 */
public interface Backend {
    /** "scalar", "vector" or "cuda". */
    String name();

    Tensor causalConv(Tensor x, Tensor k, Layout layout);

    /**
     * causal-conv written over a caller-owned {@code y}: a host tensor of x's shape and dtype, exactly x (in place) or
     * memory apart from x, and apart from k. For layers whose intermediates live in memory of their own (a result per
     * call costs an allocation and its zero-fill). This default computes {@link #causalConv} and copies; the vector
     * backend writes y in place.
     */
    default void causalConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        Check.causalConv(x, k, layout);
        Plans.checkIntoOutput(Check.CAUSAL_CONV, x, k, y);
        try (Tensor r = causalConv(x, k, layout)) {
            Plans.copyInto(Check.CAUSAL_CONV, r, y);
        }
    }

    /**
     * A plan for {@code problem} holding kernel {@code k} (which must fit the problem): the backend's planner
     * chooses the path and FFT size from the sizes and prepares the kernel once. This default has no prepared
     * form (it keeps a reference to k, which must then stay open, and runs the op per apply); every backend of
     * this library overrides it.
     */
    default ConvPlan plan(ConvProblem problem, Tensor k) {
        problem.checkKernel(k);
        return new PerCallConvPlan(this, problem, k);
    }

    /** causal-conv with kernel k ([D, Lk] or [Lk, D]) prepared once for inputs of length {@code length}. */
    default ConvPlan causalConvPlan(Tensor k, int length, Layout layout) {
        return plan(ConvProblem.of(ConvProblem.Kind.CAUSAL, k, length, layout), k);
    }

    /** toeplitz-conv with kernel k ([D, 2L-1] or [2L-1, D]) prepared once for inputs of length {@code length}. */
    default ConvPlan toeplitzConvPlan(Tensor k, int length, Layout layout) {
        return plan(ConvProblem.of(ConvProblem.Kind.TOEPLITZ, k, length, layout), k);
    }

    /**
     * A causal stream of kernel k ([D, Lk] or [Lk, D]) for batches of {@code batch} rows: causal-conv over a sequence
     * that arrives step by step (see {@link CausalStream}). Backends without streams throw a LongConvException.
     */
    default CausalStream causalStream(Tensor k, int batch, Layout layout) {
        throw new LongConvException(Check.CAUSAL_CONV, "backend", "a backend with causal streams (scalar, vector)", name());
    }

    Tensor toeplitzConv(Tensor x, Tensor k, Layout layout);

    /** toeplitz-conv written over a caller-owned {@code y}, as {@link #causalConvInto}. */
    default void toeplitzConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        Check.toeplitzConv(x, k, layout);
        Plans.checkIntoOutput(Check.TOEPLITZ_CONV, x, k, y);
        try (Tensor r = toeplitzConv(x, k, layout)) {
            Plans.copyInto(Check.TOEPLITZ_CONV, r, y);
        }
    }

    /** {@code bias} may be null. */
    Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout);

    Tensor ski(Tensor x, Tensor kr, Layout layout);

    Tensor causalSpectrum(Tensor re, int n);

    Tensor rfft(Tensor x, int n);

    Tensor irfft(Tensor x, int n);

    Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB);

    /**
     * gemm written over a caller-owned {@code c}: [M, N] of a's dtype on the host, its memory apart from a's and b's.
     * For loops that multiply the same shapes again and again (a fresh result per call costs an allocation and its
     * zero-fill). This default computes {@link #gemm} and copies; the vector backend writes c in place.
     */
    default void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, Tensor c) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        Check.gemmOutput(c, g, a, b);
        try (Tensor r = gemm(a, b, transA, transB)) {
            for (long i = 0, n = r.numel(); i < n; i++) c.setFlat(i, r.getFlat(i));
        }
    }

    // Backward: vector-Jacobian products for an upstream gradient gy of y's shape. Kernel gradients are
    // summed over the batch. The defaults are built from this backend's forward ops.

    /** causal-conv: (dx, dk). */
    default Grads causalConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return Backward.causalConv(this::toeplitzConv, x, k, gy, layout);
    }

    /** toeplitz-conv: (dx, dk). */
    default Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return Backward.toeplitzConv(this::toeplitzConv, this::causalConv, x, k, gy, layout);
    }

    /** short-conv: (dx, dw, dbias); dbias is null when bias is. */
    default Grads shortConvBackward(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        return Backward.shortConv(x, w, bias, mode, gy, layout);
    }

    /** ski: (dx, dkr). */
    default Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        return Backward.ski(x, kr, gy, layout);
    }
}
