package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

/** The prepared form of a layer that has nothing to prepare: each call runs its forward and copies the result. */
final class ForwardPerCall implements PreparedLayer {
    private final Layer layer;
    private final Backend backend;
    private final DType dtype;
    private final int length;

    ForwardPerCall(Layer layer, Backend backend, DType dtype, int length) {
        this.layer = layer;
        this.backend = backend;
        this.dtype = ServingChecks.checkDtype(layer.name(), dtype);
        this.length = ServingChecks.checkLength(layer.name(), length);
    }

    @Override
    public Layer layer() {
        return layer;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public void forwardInto(Tensor x, Tensor y) {
        if (x == null || x.dtype() != dtype) throw new LongConvException(layer.name(), "x", "dtype " + dtype + " (as prepared)", x == null ? "null" : x.dtype().toString());
        try (Tensor r = layer.forward(backend, x)) {
            ServingChecks.copyInto(layer.name(), r, y);
        }
    }
}
