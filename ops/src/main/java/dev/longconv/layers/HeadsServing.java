package dev.longconv.layers;

import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * Prepared forms and sessions of the layers on x [B, H, L, dim] whose work is one Toeplitz operator over the tokens
 * [B, L, H·dim] (TNO, FD-TNO, FD-TNO without RPE, SKI-TNO): the operator's own prepared form or session, with the
 * forward's layout changes around it.
 */
final class HeadsServing {
    private HeadsServing() {}

    private static void checkHeads(Layer layer, Tensor x, int h, int dim, DType dtype, long length, int batch) {
        if (x == null || x.rank() != 4 || x.dim(1) != h || x.dim(3) != dim || x.dtype() != dtype || x.dim(0) < 1
                || (length >= 0 && x.dim(2) != length) || (batch > 0 && x.dim(0) != batch)) {
            String b = batch > 0 ? "B=" + batch : "B", l = length >= 0 ? "L=" + length : "C";
            throw new LongConvException(layer.name(), "x", "[" + b + ", H=" + h + ", " + l + ", dim=" + dim + "] " + dtype,
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
    }

    /**
     * y = the operator of x's tokens, in x's layout (a TNO's forward, and the prepared forms and sessions here); op
     * returns a new tensor that owns its memory (TokenMixer's contract). With one head, [B, 1, C, dim] is [B, C, dim]
     * in memory: op reads x's memory and its result becomes y, without the two permutes (6% of a TNO forward at H = 1,
     * L = 1024, dim = 256).
     */
    static Tensor throughTokens(Tensor x, int h, int dim, DType dtype, UnaryOperator<Tensor> op) {
        return throughTokens(x, h, dim, dtype, op, null);
    }

    /**
     * {@link #throughTokens(Tensor, int, int, DType, UnaryOperator)}, where float32 x with several heads goes through
     * {@code inPlace} (when not null), which overwrites the token-major copy in the call's scratch with the operator's
     * result: that result then takes no memory of its own (a new tensor per call, 10% of a small TNO forward's calling
     * thread).
     */
    static Tensor throughTokens(Tensor x, int h, int dim, DType dtype, UnaryOperator<Tensor> op, Consumer<Tensor> inPlace) {
        int b = Math.toIntExact(x.dim(0)), c = Math.toIntExact(x.dim(2));
        if (h > 1 && dtype == DType.FLOAT32 && inPlace != null) {
            try (Arena scratch = ScratchArena.open()) {
                Tensor v = TnoTensors.permuteHeads(x, b, h, c, dim, true, scratch);
                inPlace.accept(v);
                return TnoTensors.permuteHeads(v, b, h, c, dim, false, null);
            }
        }
        if (h == 1) {
            try (Tensor xc = x.contiguous(); Tensor v = xc.reshape(b, c, dim)) {
                Tensor y = op.apply(v);
                try {
                    return y.reshapeOwned(x.shape());
                } catch (RuntimeException | Error e) {
                    y.close();
                    throw e;
                }
            }
        }
        if (dtype == DType.FLOAT32) {
            // the token-major copy of x lives for this call only: the thread's scratch (ScratchArena)
            try (Arena scratch = ScratchArena.open(); Tensor v = TnoTensors.permuteHeads(x, b, h, c, dim, true, scratch); Tensor t = op.apply(v)) {
                return TnoTensors.permuteHeads(t, b, h, c, dim, false, null);
            }
        }
        try (Tensor v = TnoTensors.write(TnoTensors.headsToTokens(TnoTensors.read(x), b, h, c, dim), dtype, b, c, (long) h * dim);
             Tensor t = op.apply(v)) {
            return TnoTensors.write(TnoTensors.tokensToHeads(TnoTensors.read(t), b, h, c, dim), dtype, x.shape());
        }
    }

    static PreparedLayer prepare(Layer layer, TokenMixer mixer, int h, int dim, Backend backend, DType dtype, int length) {
        ServingChecks.checkDtype(layer.name(), dtype);
        ServingChecks.checkLength(layer.name(), length);
        TokenMixer.PreparedMix prepared = mixer.prepareMix(backend, dtype, length);
        return new PreparedBase(layer, dtype, length) {
            @Override
            void checkInput(Tensor x) {
                checkHeads(layer, x, h, dim, dtype, length, 0);
            }

            @Override
            Tensor compute(Tensor x) {
                return throughTokens(x, h, dim, dtype, prepared::mix);
            }

            @Override
            public void close() {
                prepared.close();
            }
        };
    }

    static LayerSession session(Layer layer, TokenMixer mixer, int h, int dim, Backend backend, DType dtype, int batch, int maxLength) {
        ServingChecks.checkDtype(layer.name(), dtype);
        if (batch < 1) throw new LongConvException(layer.name(), "batch", "B >= 1", "B=" + batch);
        return new Session(layer, mixer.mixSession(backend, dtype, batch, maxLength), h, dim, dtype, batch, maxLength);
    }

    /** Blocks [B, H, C, dim], steps [B, H, dim]. */
    private static final class Session extends BlockSession {
        private final TokenMixer.MixSession mixer;
        private final int h, dim, batch;
        private final DType dtype;

        Session(Layer layer, TokenMixer.MixSession mixer, int h, int dim, DType dtype, int batch, int maxLength) {
            super(layer, maxLength, 2);
            this.mixer = mixer;
            this.h = h;
            this.dim = dim;
            this.dtype = dtype;
            this.batch = batch;
        }

        @Override
        Tensor pushBlock(Tensor x) {
            checkHeads(layer, x, h, dim, dtype, -1, batch);
            return throughTokens(x, h, dim, dtype, mixer::push);
        }

        @Override
        public void reset() {
            mixer.reset();
            position = 0;
        }

        @Override
        public LayerSession copy() {
            Session s = new Session(layer, mixer.copy(), h, dim, dtype, batch, maxLength);
            s.position = position;
            return s;
        }

        @Override
        public void close() {
            mixer.close();
        }
    }
}
