package dev.longconv.ops.spi;

import dev.longconv.DType;
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

    /** [D][n] values as a new kernel tensor of {@code dtype} in the layout's orientation ([D, n] or [n, D]). */
    public static Tensor tensor(double[][] k, int n, DType dtype, Layout layout) {
        int d = k.length;
        Tensor t = Tensor.zeros(dtype, layout.kernelShape(d, n));
        ChannelKernel tv = ChannelKernel.of(t, layout);
        for (int c = 0; c < d; c++) for (int j = 0; j < n; j++) t.setAt(c * tv.strideD() + (long) j * tv.strideN(), k[c][j]);
        return t;
    }

    /** Column 0 of {@code v} ([D][>=1]) as a new [D] tensor of {@code dtype}: a per-channel vector such as a bias gradient. */
    public static Tensor channelVector(double[][] v, DType dtype) {
        Tensor t = Tensor.zeros(dtype, v.length);
        for (int c = 0; c < v.length; c++) t.set(v[c][0], c);
        return t;
    }
}
