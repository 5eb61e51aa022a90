package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;

/**
 * causal-conv of one kernel over an unbounded sequence that arrives in pieces: token-by-token decoding. After
 * any split of the input into {@link #prefill}, {@link #push} and {@link #step} calls, every output equals the
 * one-shot {@link Backend#causalConv} of the concatenated input (to rounding: the stream's sums run in another
 * order). Only the last Lk - 1 inputs matter, so the sequence may run forever.
 *
 * <p>Shapes, in the stream's layout: a block of C steps is x [B, D, C] (BDL) or [B, C, D] (BLD); one step is
 * x [B, D] in either layout. Outputs have the input's shape and dtype. The gated forms compute
 * {@code y = post * conv(pre * x) + skip * x} (see {@link Reference#gatedCausalConv}): pre and post shaped like x,
 * skip [D]; the convolution runs over the whole history of pre * x. y may be x itself (the outputs are written after
 * the inputs are read).
 *
 * <p>A stream holds state (the recent inputs and the pending contributions of earlier ones), so it is not
 * thread-safe; {@link #copy()} forks it (for beam search, say). A warm {@link #stepInto} allocates nothing on
 * the Java heap. Close it when done.
 */
public interface CausalStream extends AutoCloseable {
    /** How a stream computes, for logs and benchmarks: its backend and schedule (see the implementations). */
    String describe();

    /** B. */
    int batch();

    /** D. */
    int channels();

    /** Lk. */
    int taps();

    Layout layout();

    DType dtype();

    /** How many steps the stream has taken since it was made or {@link #reset()}. */
    long position();

    /**
     * The first T0 steps: {@link #push} at position 0 (a LongConvException elsewhere: a prefill starts a sequence).
     * Returns y for those steps, a new tensor the caller owns.
     */
    default Tensor prefill(Tensor x) {
        requireStart("prefill");
        return push(x);
    }

    /** Throws unless the stream is at position 0. */
    void requireStart(String what);

    /** The next C steps; a new tensor the caller owns. */
    default Tensor push(Tensor x) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        try {
            pushInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** The next C steps into {@code y} (x's shape and dtype). */
    default void pushInto(Tensor x, Tensor y) {
        pushGatedInto(x, null, null, null, y);
    }

    /** The next C steps of the gated form; pre, post and skip may each be null. */
    void pushGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y);

    /** One step: x [B, D]; a new tensor the caller owns. */
    default Tensor step(Tensor x) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        try {
            stepInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** One step into {@code y} [B, D]: allocates nothing once warm. */
    default void stepInto(Tensor x, Tensor y) {
        stepGatedInto(x, null, null, null, y);
    }

    /** One step of the gated form; pre and post [B, D], skip [D], each may be null. */
    void stepGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y);

    /** Back to position 0 with no history (the kernel stays prepared). */
    void reset();

    /** An independent stream in this one's state: both continue on their own. */
    CausalStream copy();

    /** Frees what the stream holds. Idempotent. */
    @Override
    default void close() {}
}
