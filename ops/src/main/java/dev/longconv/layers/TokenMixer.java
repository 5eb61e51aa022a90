package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
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

    /**
     * The operator prepared for v of {@code length} steps in {@code dtype}: its kernel computed once and held in a plan.
     * This default prepares nothing (each call runs {@link #mix}).
     */
    default PreparedMix prepareMix(Backend backend, DType dtype, int length) {
        return v -> mix(backend, v);
    }

    /** A causal stream of the operator over sequences up to {@code maxLength}; operators without one refuse. */
    default MixSession mixSession(Backend backend, DType dtype, int batch, int maxLength) {
        throw new LongConvException(Gtu.NAME, "session", "a causal operator with sessions (tno)", getClass().getSimpleName());
    }

    /** A prepared operator: y = T v for v [B, L, H·dim] of the prepared length; a new tensor. */
    @FunctionalInterface
    interface PreparedMix extends AutoCloseable {
        Tensor mix(Tensor v);

        /** {@link #mix} written into {@code out}: a contiguous tensor of v's shape and dtype, apart from v. */
        default void mixInto(Tensor v, Tensor out) {
            try (Tensor y = mix(v)) {
                ServingChecks.copyInto(Gtu.NAME, y, out);
            }
        }

        /**
         * Whether {@link #mixInto} writes into out itself rather than copying {@link #mix}'s result there: a one-call
         * float32 GTU then gives it a workspace buffer instead of taking a new tensor from mix.
         */
        default boolean writesInto() {
            return false;
        }

        @Override
        default void close() {}
    }

    /** The operator over a sequence arriving in blocks of v [B, C, H·dim]. */
    interface MixSession extends AutoCloseable {
        /** y for the next C steps; a new tensor. */
        Tensor push(Tensor v);

        void reset();

        MixSession copy();

        @Override
        void close();
    }
}
