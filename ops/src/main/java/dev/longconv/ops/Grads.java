package dev.longconv.ops;

import dev.longconv.Tensor;

/**
 * Gradients of a conv op with respect to its input and its weights (a vector-Jacobian product).
 * {@code dbias} is null where the op has no bias (or none was given). Closing frees all of them.
 */
public record Grads(Tensor dx, Tensor dk, Tensor dbias) implements AutoCloseable {
    @Override
    public void close() {
        dx.close();
        dk.close();
        if (dbias != null) dbias.close();
    }
}
