package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;

/**
 * What every prepared layer shares: the layer, dtype and length it was made for (checked once here) and, for those
 * that compute a fresh result, {@link #forwardInto} as: check x, check y, compute, copy into y.
 */
abstract class PreparedBase implements PreparedLayer {
    final Layer layer;
    final DType dtype;
    final int length;

    PreparedBase(Layer layer, DType dtype, int length) {
        this.layer = layer;
        this.dtype = ServingChecks.checkDtype(layer.name(), dtype);
        this.length = ServingChecks.checkLength(layer.name(), length);
    }

    @Override
    public final Layer layer() {
        return layer;
    }

    @Override
    public final int length() {
        return length;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    /** Throws a one-line LongConvException unless x is an input of this prepared form. */
    void checkInput(Tensor x) {}

    /** y for a checked x, a new tensor (closed by {@link #forwardInto}). Forms that write y directly override forwardInto. */
    Tensor compute(Tensor x) {
        throw new UnsupportedOperationException(getClass().getName() + " writes y itself");
    }

    @Override
    public void forwardInto(Tensor x, Tensor y) {
        checkInput(x);
        ServingChecks.checkOutput(layer.name(), y, layer.outputShape(x.shape()), dtype);
        try (Tensor r = compute(x)) {
            ServingChecks.copyInto(layer.name(), r, y);
        }
    }
}
