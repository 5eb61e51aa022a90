package dev.longconv.ops;

import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.SkiGrid;

import java.util.Arrays;

/**
 * Vector-Jacobian products of the conv ops, built from a backend's own forward ops so that each
 * backend's fast paths carry over: the transpose of a Toeplitz product is a Toeplitz product with the
 * kernel reversed, and a kernel gradient is a correlation of x with gy, i.e. one more long
 * convolution per batch row. short-conv and ski gradients are direct O(L W) and O(L + r^2) sums.
 * Results have x's dtype and layout; kernel gradients are summed over the batch.
 */
final class Backward {
    private Backward() {}

    /** A long-convolution forward op (causal-conv or toeplitz-conv) of the backend whose gradients are built. */
    @FunctionalInterface
    interface SequenceOp {
        Tensor apply(Tensor x, Tensor k, Layout layout);
    }

    static Grads causalConv(SequenceOp toeplitz, Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        Check.gradient(Check.CAUSAL_CONV, gy, x);
        int len = s.length(), d = s.channels(), taps = Math.min(s.taps(), len), lk = s.taps();
        ChannelKernel ck = ChannelKernel.of(k, layout);
        double[] row = new double[lk];
        // dx[u] = sum_s k[s] gy[u+s]: a Toeplitz product whose kernel holds k at lags 0, -1, ..., -(taps-1).
        Tensor dx;
        try (Tensor kt = Tensor.zeros(x.dtype(), layout.kernelShape(d, 2L * len - 1))) {
            ChannelKernel kv = ChannelKernel.of(kt, layout);
            for (int c = 0; c < d; c++) {
                ck.read(c, row);
                for (int j = 0; j < taps; j++) kt.setAt(kt.offset() + c * kv.strideD() + (long) (len - 1 - j) * kv.strideN(), row[j]);
            }
            dx = toeplitz.apply(gy, kt, layout);
        }
        // dk[s] = sum_b sum_t gy[t] x[t-s]: per batch row, the same Toeplitz form with x in place of k.
        double[][] dk = new double[d][lk];
        try (Tensor xt = Tensor.zeros(x.dtype(), layout.kernelShape(d, 2L * len - 1))) {
            ChannelKernel xv = ChannelKernel.of(xt, layout);
            Seq xs = Seq.of(x, layout);
            double[] xr = new double[len];
            for (int b = 0; b < s.batch(); b++) {
                for (int c = 0; c < d; c++) {
                    xs.read(b, c, xr);
                    for (int m = 0; m < len; m++) xt.setAt(xt.offset() + c * xv.strideD() + (long) (len - 1 - m) * xv.strideN(), xr[m]);
                }
                try (Tensor r = toeplitz.apply(gy.slice(0, b, b + 1), xt, layout)) {
                    accumulate(Seq.of(r, layout), dk, taps);
                }
            }
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
        return new Grads(dx, ChannelKernel.tensor(dk, lk, x.dtype(), layout), null);
    }

    static Grads toeplitzConv(SequenceOp toeplitz, SequenceOp causal, Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        Check.gradient(Check.TOEPLITZ_CONV, gy, x);
        int len = s.length(), d = s.channels(), n = 2 * len - 1;
        ChannelKernel ck = ChannelKernel.of(k, layout);
        double[] row = new double[n];
        // T^T has the kernel reversed.
        Tensor dx;
        try (Tensor rev = Tensor.zeros(x.dtype(), layout.kernelShape(d, n))) {
            ChannelKernel rv = ChannelKernel.of(rev, layout);
            for (int c = 0; c < d; c++) {
                ck.read(c, row);
                for (int j = 0; j < n; j++) rev.setAt(rev.offset() + c * rv.strideD() + (long) j * rv.strideN(), row[n - 1 - j]);
            }
            dx = toeplitz.apply(gy, rev, layout);
        }
        // dk[j] = sum_s x[s] gy[s + j - (L-1)] = (reverse(x) * gy)[j], a full linear convolution of length 2L-1:
        // causal-conv of gy zero-padded to 2L-1 with reverse(x) as the kernel, per batch row.
        double[][] dk = new double[d][n];
        try (Tensor z = Tensor.zeros(x.dtype(), layout.kernelShape(d, len));
             Tensor g = Tensor.zeros(x.dtype(), layout.seqShape(1, d, n))) {
            ChannelKernel zv = ChannelKernel.of(z, layout);
            Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout), gp = Seq.of(g, layout);
            double[] xr = new double[len], gr = new double[len], padded = new double[n];
            for (int b = 0; b < s.batch(); b++) {
                for (int c = 0; c < d; c++) {
                    xs.read(b, c, xr);
                    for (int i = 0; i < len; i++) z.setAt(z.offset() + c * zv.strideD() + (long) i * zv.strideN(), xr[len - 1 - i]);
                    gs.read(b, c, gr);
                    System.arraycopy(gr, 0, padded, 0, len);
                    gp.write(0, c, padded);
                }
                try (Tensor r = causal.apply(g, z, layout)) {
                    accumulate(Seq.of(r, layout), dk, n);
                }
            }
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
        return new Grads(dx, ChannelKernel.tensor(dk, n, x.dtype(), layout), null);
    }

    static Grads shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, w, bias, mode, layout);
        Check.gradient(Check.SHORT_CONV, gy, x);
        int len = s.length(), width = s.taps(), d = s.channels();
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        double[][] ww = ChannelKernel.of(w, layout).readAll(), dw = new double[d][width];
        double[] db = new double[d], xr = new double[len], g = new double[len], out = new double[len];
        Tensor dx = Tensor.zeros(x.dtype(), x.shape());
        Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout), os = Seq.of(dx, layout);
        for (int b = 0; b < s.batch(); b++) {
            for (int c = 0; c < d; c++) {
                xs.read(b, c, xr);
                gs.read(b, c, g);
                Arrays.fill(out, 0);
                for (int t = 0; t < len; t++) {
                    db[c] += g[t];
                    int j0 = Math.max(0, shift - t), j1 = Math.min(width, len + shift - t);
                    for (int j = j0; j < j1; j++) {
                        int src = t - shift + j;
                        out[src] += ww[c][j] * g[t];
                        dw[c][j] += g[t] * xr[src];
                    }
                }
                os.write(b, c, out);
            }
        }
        Tensor dbias = null;
        if (bias != null) {
            dbias = Tensor.zeros(x.dtype(), d);
            for (int c = 0; c < d; c++) dbias.set(db[c], c);
        }
        return new Grads(dx, ChannelKernel.tensor(dw, width, x.dtype(), layout), dbias);
    }

    static Grads ski(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        Check.gradient(Check.SKI, gy, x);
        int len = s.length(), r = (s.taps() + 1) / 2, d = s.channels();
        SkiGrid grid = SkiGrid.of(len, r);
        int[] seg = grid.seg();
        double[] frac = grid.frac();
        double[][] kk = ChannelKernel.of(kr, layout).readAll(), dk = new double[d][s.taps()];
        double[] xr = new double[len], g = new double[len], out = new double[len], u = new double[r], gv = new double[r], gu = new double[r];
        Tensor dx = Tensor.zeros(x.dtype(), x.shape());
        Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout), os = Seq.of(dx, layout);
        for (int b = 0; b < s.batch(); b++) {
            for (int c = 0; c < d; c++) {
                xs.read(b, c, xr);
                gs.read(b, c, g);
                Arrays.fill(u, 0);
                Arrays.fill(gv, 0);
                Arrays.fill(gu, 0);
                for (int t = 0; t < len; t++) { // u = W^T x, gv = W^T gy
                    u[seg[t]] += (1 - frac[t]) * xr[t];
                    gv[seg[t]] += (1 - frac[t]) * g[t];
                    if (frac[t] != 0) {
                        u[seg[t] + 1] += frac[t] * xr[t];
                        gv[seg[t] + 1] += frac[t] * g[t];
                    }
                }
                for (int i = 0; i < r; i++) {
                    for (int j = 0; j < r; j++) {
                        gu[j] += kk[c][i - j + r - 1] * gv[i];
                        dk[c][i - j + r - 1] += gv[i] * u[j];
                    }
                }
                for (int t = 0; t < len; t++) out[t] = (1 - frac[t]) * gu[seg[t]] + (frac[t] != 0 ? frac[t] * gu[seg[t] + 1] : 0);
                os.write(b, c, out);
            }
        }
        return new Grads(dx, ChannelKernel.tensor(dk, s.taps(), x.dtype(), layout), null);
    }

    /** dk[c][j] += r[0, c, j] for j < count. */
    private static void accumulate(Seq r, double[][] dk, int count) {
        double[] row = new double[r.length()];
        for (int c = 0; c < dk.length; c++) {
            r.read(0, c, row);
            for (int j = 0; j < count; j++) dk[c][j] += row[j];
        }
    }
}
