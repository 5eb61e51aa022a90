package dev.longconv.ops;

import dev.longconv.Tensor;

/**
 * A long convolution with its kernel prepared once (on the vector backend: the kernel spectra, or the
 * packed taps for the direct path) and applied to any number of inputs of the planned shape.
 * Plans are immutable and safe to use from several threads.
 */
public interface ConvPlan {
    /** y for input x ([B, D, L] or [B, L, D] as planned); a new tensor the caller owns. */
    Tensor apply(Tensor x);
}
