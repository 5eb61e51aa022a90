package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;

/**
 * A layer prepared for one backend, dtype and input length (see {@link Layer#prepare}): every kernel that depends only
 * on the weights and the length (STU's folded filters, TNO's encoder output over the lags, FD-TNO's spectrum) is
 * computed once and held in the backend's plans, so {@link #forwardInto} does only the per-input work. Its output
 * equals {@link Layer#forward} of the same input. Safe to use from several threads (each call allocates its own
 * intermediates); holds plans, possibly device memory: close it when done.
 */
public interface PreparedLayer extends AutoCloseable {
    /** The layer this was prepared from. */
    Layer layer();

    /** The input length L it serves. */
    int length();

    /** The dtype of inputs and outputs. */
    DType dtype();

    /** y for input x (the layer's input shape with L = {@link #length()}, this dtype), into {@code y} (the output shape). */
    void forwardInto(Tensor x, Tensor y);

    /** y for input x; a new tensor the caller owns. */
    default Tensor forward(Tensor x) {
        Tensor y = Tensor.zeros(dtype(), layer().outputShape(x.shape()));
        try {
            forwardInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** Frees the plans. Idempotent. */
    @Override
    default void close() {}
}
