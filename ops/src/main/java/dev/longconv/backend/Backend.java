package dev.longconv.backend;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;
import dev.longconv.ops.ShortConvMode;

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
     * causal-conv with kernel k prepared once for inputs of length {@code length}; apply it to many
     * inputs. Backends without a prepared form keep a reference to k, which must then stay open.
     */
    default ConvPlan causalConvPlan(Tensor k, int length, Layout layout) {
        return (x, y) -> {
            try (Tensor r = causalConv(x, k, layout)) {
                Plans.copyInto("causal-conv", r, y);
            }
        };
    }

    Tensor toeplitzConv(Tensor x, Tensor k, Layout layout);

    /** {@code bias} may be null. */
    Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout);

    Tensor ski(Tensor x, Tensor kr, Layout layout);

    Tensor causalSpectrum(Tensor re, int n);

    Tensor rfft(Tensor x, int n);

    Tensor irfft(Tensor x, int n);

    Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB);

    // Backward: vector-Jacobian products for an upstream gradient gy of y's shape. Kernel gradients are
    // summed over the batch. The defaults are built from this backend's forward ops.

    /** causal-conv: (dx, dk). */
    default Grads causalConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return Backward.causalConv(this, x, k, gy, layout);
    }

    /** toeplitz-conv: (dx, dk). */
    default Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return Backward.toeplitzConv(this, x, k, gy, layout);
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
