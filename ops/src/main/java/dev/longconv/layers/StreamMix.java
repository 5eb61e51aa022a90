package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.ops.CausalStream;

/** A Toeplitz operator's session that is a causal stream of its kernel, nothing more. */
final class StreamMix implements TokenMixer.MixSession {
    private final CausalStream stream;

    private StreamMix(CausalStream stream) {
        this.stream = stream;
    }

    static TokenMixer.MixSession of(CausalStream stream) {
        return new StreamMix(stream);
    }

    @Override
    public Tensor push(Tensor v) {
        return stream.push(v);
    }

    @Override
    public void reset() {
        stream.reset();
    }

    @Override
    public TokenMixer.MixSession copy() {
        return new StreamMix(stream.copy());
    }

    @Override
    public void close() {
        stream.close();
    }
}
