package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;

/**
 * What the layer sessions that work in blocks share: the position, the maxLength check, prefill at position 0, and a
 * step as a block of one (the length axis inserted before and removed after).
 */
abstract class BlockSession implements LayerSession {
    final Layer layer;
    final String op;
    final int maxLength;
    /** The axis of L in a block: 1 for [B, C, D], 2 for [B, H, C, dim]. */
    final int lengthAxis;
    long position;

    BlockSession(Layer layer, int maxLength, int lengthAxis) {
        this.layer = layer;
        this.op = layer.name();
        this.maxLength = ServingChecks.checkLength(op, maxLength);
        this.lengthAxis = lengthAxis;
    }

    /** y for a block already checked to fit (the layer checks its shape); does not move the position. */
    abstract Tensor pushBlock(Tensor x);

    @Override
    public long position() {
        return position;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public Tensor prefill(Tensor x) {
        if (position != 0) throw new LongConvException(op, "prefill", "a session at position 0 (use push to continue)", "position " + position);
        return push(x);
    }

    @Override
    public Tensor push(Tensor x) {
        if (x == null || x.rank() <= lengthAxis) throw new LongConvException(op, "x", "a block with its steps on axis " + lengthAxis, String.valueOf(x));
        long c = x.dim(lengthAxis);
        if (position + c > maxLength) {
            throw new LongConvException(op, "x", "at most maxLength=" + maxLength + " steps in all (the session's kernels end there)", (position + c) + " steps");
        }
        if (c == 0) return Tensor.zeros(x.dtype(), layer.outputShape(x.shape())); // an empty prefill
        Tensor y = pushBlock(x);
        position += c;
        return y;
    }

    @Override
    public Tensor step(Tensor x) {
        if (x == null || x.rank() != lengthAxis + 1) throw new LongConvException(op, "x", "one step (a block without its length axis)", String.valueOf(x));
        long[] s = x.shape(), b = new long[s.length + 1];
        for (int i = 0, j = 0; i < b.length; i++) b[i] = i == lengthAxis ? 1 : s[j++];
        try (Tensor xc = x.contiguous(); Tensor y = push(xc.reshape(b))) {
            long[] ys = y.shape(), o = new long[ys.length - 1];
            for (int i = 0, j = 0; i < ys.length; i++) if (i != lengthAxis) o[j++] = ys[i];
            return y.reshape(o).copy();
        }
    }
}
