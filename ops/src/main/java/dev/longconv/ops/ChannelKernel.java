package dev.longconv.ops;

import dev.longconv.Layout;
import dev.longconv.Tensor;

/** A per-channel kernel tensor, [D, n] in BDL and [n, D] in BLD, seen as D rows of n taps. */
public record ChannelKernel(Tensor tensor, int channels, int taps, long strideD, long strideN) {

    public static ChannelKernel of(Tensor t, Layout layout) {
        int dAxis = layout == Layout.BDL ? 0 : 1, nAxis = 1 - dAxis;
        return new ChannelKernel(t, Math.toIntExact(t.dim(dAxis)), Math.toIntExact(t.dim(nAxis)),
                t.stride(dAxis), t.stride(nAxis));
    }

    /** Taps of channel d into {@code dst[0..taps)}. */
    public void read(int d, double[] dst) {
        long p = tensor.offset() + d * strideD;
        for (int j = 0; j < taps; j++, p += strideN) dst[j] = tensor.getAt(p);
    }

    /** Taps of every channel, [D][n]. For references and plans, which read a kernel once. */
    public double[][] readAll() {
        double[][] k = new double[channels][taps];
        for (int d = 0; d < channels; d++) read(d, k[d]);
        return k;
    }
}
