package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Map;

/**
 * The Toeplitz operator slot of a {@link Gtu} (upstream's {@code toep}): a linear map along L of
 * v [B, L, H·dim] (BLD, channel h·dim + c), whose kernel comes from the operator's own parameters.
 * Implemented by {@link Tno}, {@link FdTno}, {@link FdTnoNoRpe}, {@link SkiTnoRpe} and {@link SkiTnoInvTime}.
 */
interface TokenMixer {
    /** y = T v, a new tensor of v's dtype. */
    Tensor mix(Backend backend, Tensor v);

    /** dv and the gradient of every parameter for sum(gy ⊙ mix(v)). */
    MixGrads mixBackward(Backend backend, Tensor v, Tensor gy);

    /** Its parameters by full state_dict name (with the prefix it was built with). */
    Map<String, Tensor> parameters();

    /** dv and the parameter gradients as C-order arrays by full state_dict name. */
    record MixGrads(Tensor dv, Map<String, double[]> params) {}
}
