package dev.longconv.ops.spi;

import dev.longconv.Layout;
import dev.longconv.Tensor;

/**
 * A rank-3 sequence tensor seen as B x D rows of length L, whatever its layout and strides.
 * Rows are copied in and out as doubles, so one loop serves both layouts and both dtypes.
 */
public record Seq(Tensor tensor, int batch, int channels, int length, long strideB, long strideD, long strideL) {

    /** The view of {@code t} (already validated as rank 3) in {@code layout}. */
    public static Seq of(Tensor t, Layout layout) {
        int dAxis = layout == Layout.BDL ? 1 : 2, lAxis = layout == Layout.BDL ? 2 : 1;
        return new Seq(t, Math.toIntExact(t.dim(0)), Math.toIntExact(t.dim(dAxis)), Math.toIntExact(t.dim(lAxis)),
                t.stride(0), t.stride(dAxis), t.stride(lAxis));
    }

    private long base(int b, int d) {
        return tensor.offset() + b * strideB + d * strideD;
    }

    /** Row (b, d) into {@code dst[0..length)}. */
    public void read(int b, int d, double[] dst) {
        long p = base(b, d);
        for (int t = 0; t < length; t++, p += strideL) dst[t] = tensor.getAt(p);
    }

    /** {@code src[0..length)} into row (b, d), rounded to the tensor's dtype. */
    public void write(int b, int d, double[] src) {
        long p = base(b, d);
        for (int t = 0; t < length; t++, p += strideL) tensor.setAt(p, src[t]);
    }
}
