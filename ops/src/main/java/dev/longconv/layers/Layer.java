package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Map;

/**
 * A token-mixing layer over the backends' ops. It computes in its input's dtype (float32 or float64;
 * the parameters are converted as needed) and returns new tensors the caller owns.
 */
public interface Layer {
    /** The layer's name in messages and on the command line ("stu", "tno", ...). */
    String name();

    /** Its parameters by state_dict name. These are the live tensors (tests perturb them in place). */
    Map<String, Tensor> parameters();

    Tensor forward(Backend backend, Tensor x);

    /** Gradients of sum(gy * forward(x)) for x and every parameter. */
    LayerGrads backward(Backend backend, Tensor x, Tensor gy);

    /** The output's shape for an input of {@code inputShape}: the same, unless the layer changes the channel count. */
    default long[] outputShape(long[] inputShape) {
        return inputShape.clone();
    }

    /**
     * This layer prepared for inputs of {@code length} steps in {@code dtype} on {@code backend} (see
     * {@link PreparedLayer}). This default prepares nothing (each call runs {@link #forward}); the layers with kernels
     * that depend only on weights and length (STU, TNO, GTU, FD-TNO) override it.
     */
    default PreparedLayer prepare(Backend backend, DType dtype, int length) {
        return new ForwardPerCall(this, backend, dtype, length);
    }

    /**
     * A session for token-by-token decoding over sequences up to {@code maxLength} steps, {@code batch} rows at a time
     * (see {@link LayerSession}). Only causal layers have one; this default refuses.
     */
    default LayerSession session(Backend backend, DType dtype, int batch, int maxLength) {
        throw new LongConvException(name(), "session", "a causal layer (sessions exist for stu, causal tno and causal gtu)", name());
    }
}
