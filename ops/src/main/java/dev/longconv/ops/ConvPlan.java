package dev.longconv.ops;

import dev.longconv.Tensor;

/**
 * A long convolution with its kernel prepared once (on the vector backend: the kernel spectra, or the
 * packed taps for the direct path) and applied to any number of inputs of the planned shape.
 * Plans are immutable and safe to use from several threads.
 */
public interface ConvPlan {
    /** y for input x ([B, D, L] or [B, L, D] as planned); a new tensor the caller owns. */
    default Tensor apply(Tensor x) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        try {
            applyInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** Writes y for input x into {@code y} (same shape and dtype as x, any strides): no allocation per call. */
    void applyInto(Tensor x, Tensor y);
}
