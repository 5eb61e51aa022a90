package dev.longconv.layers;

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
}
