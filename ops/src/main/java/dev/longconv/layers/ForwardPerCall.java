package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

/** The prepared form of a layer that has nothing to prepare: each call runs its forward and copies the result. */
final class ForwardPerCall extends PreparedBase {
    private final Backend backend;

    ForwardPerCall(Layer layer, Backend backend, DType dtype, int length) {
        super(layer, dtype, length);
        this.backend = backend;
    }

    /** x is checked by the layer's forward; y against its result. */
    @Override
    public void forwardInto(Tensor x, Tensor y) {
        if (x == null || x.dtype() != dtype) throw new LongConvException(layer.name(), "x", "dtype " + dtype + " (as prepared)", x == null ? "null" : x.dtype().toString());
        try (Tensor r = layer.forward(backend, x)) {
            ServingChecks.copyInto(layer.name(), r, y);
        }
    }
}
