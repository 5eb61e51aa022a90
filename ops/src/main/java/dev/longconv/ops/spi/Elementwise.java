package dev.longconv.ops.spi;

import dev.longconv.Layout;
import dev.longconv.Tensor;

/** The elementwise steps of gated convolutions, for backends that do not fuse them. */
public final class Elementwise {
    private Elementwise() {}

    /** a * b, a new tensor of a's shape and dtype. */
    public static Tensor product(Tensor a, Tensor b) {
        Tensor r = Tensor.zeros(a.dtype(), a.shape());
        for (long i = 0, n = a.numel(); i < n; i++) r.setFlat(i, a.getFlat(i) * b.getFlat(i));
        return r;
    }

    /** y = post * y + skip[d] * x, in place; post and skip may be null. */
    public static void gateAndSkip(Tensor y, Tensor post, Tensor skip, Tensor x, Layout layout) {
        if (post == null && skip == null) return;
        Seq ys = Seq.of(y, layout), xs = Seq.of(x, layout), qs = post == null ? null : Seq.of(post, layout);
        double[] yr = new double[ys.length()], xr = new double[ys.length()], qr = new double[ys.length()];
        for (int b = 0; b < ys.batch(); b++) {
            for (int d = 0; d < ys.channels(); d++) {
                ys.read(b, d, yr);
                xs.read(b, d, xr);
                if (qs != null) qs.read(b, d, qr);
                double sk = skip == null ? 0 : skip.get(d);
                for (int t = 0; t < yr.length; t++) yr[t] = (qs == null ? 1 : qr[t]) * yr[t] + sk * xr[t];
                ys.write(b, d, yr);
            }
        }
    }
}
