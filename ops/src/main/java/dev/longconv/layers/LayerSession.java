package dev.longconv.layers;

import dev.longconv.Tensor;

/**
 * A causal layer running over a sequence that arrives in pieces (see {@link Layer#session}): token-by-token decoding.
 * After any split of the input into {@link #prefill}, {@link #push} and {@link #step} calls, the output at every step
 * t &lt; {@link #maxLength()} equals {@link Layer#forward} of the whole sequence (of length maxLength) at t: the layer's
 * kernels are those of length maxLength, and causality makes output t depend on inputs up to t only.
 *
 * <p>Shapes: a block of C steps has the layer's input shape with L = C (STU and GTU [B, C, D]; TNO [B, H, C, dim]); one
 * step drops the L axis (STU and GTU [B, D]; TNO [B, H, dim]). Outputs have the matching output shapes. A session holds
 * state: not thread-safe; {@link #copy()} forks it. Close it when done.
 */
public interface LayerSession extends AutoCloseable {
    /** Steps taken so far. */
    long position();

    /** The sequence length the session's kernels were made for; steps past it are refused. */
    int maxLength();

    /** The first T0 steps: {@link #push} at position 0. */
    Tensor prefill(Tensor x);

    /** The next C steps; a new tensor the caller owns. */
    Tensor push(Tensor x);

    /** One step; a new tensor the caller owns. */
    Tensor step(Tensor x);

    /** Back to position 0. */
    void reset();

    /** An independent session in this one's state. */
    LayerSession copy();

    /** Frees the streams. Idempotent. */
    @Override
    void close();
}
