package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.SkiGrid;

import java.util.Arrays;

/**
 * The float64 reference of every op: plain loops written straight from the definitions, slow on
 * purpose (direct sums, direct DFTs). It is the oracle every backend is tested against, and public
 * so users can check results themselves.
 *
 * <p>Inputs may be float32 or float64; every result is a new float64 tensor the caller owns, in the
 * same layout as the input. Arguments are validated exactly as the backends validate them.
 */
public final class Reference {
    private Reference() {}

    /** y[b,d,t] = sum_{s=0}^{min(t,Lk-1)} k[d,s] x[b,d,t-s]. */
    public static Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        double[][] kk = ChannelKernel.of(k, layout).readAll();
        return perRow(x, layout, s, (d, in, out) -> {
            for (int t = 0; t < s.length(); t++) {
                double acc = 0;
                for (int j = 0; j <= Math.min(t, s.taps() - 1); j++) acc += kk[d][j] * in[t - j];
                out[t] = acc;
            }
        });
    }

    /**
     * Gated causal-conv, the form gated convolution models use (FlashFFTConv, Hyena):
     * y[b,d,t] = post[b,d,t] * sum_s k[d,s] pre[b,d,t-s] x[b,d,t-s] + skip[d] x[b,d,t].
     * pre and post have x's shape and layout, skip is [D]; each may be null (then 1, 1 and 0).
     */
    public static Tensor gatedCausalConv(Tensor x, Tensor k, Tensor pre, Tensor post, Tensor skip, Layout layout) {
        Check.SeqDims s = Check.gatedCausalConv(x, k, pre, post, skip, layout);
        double[][] kk = ChannelKernel.of(k, layout).readAll();
        int len = s.length();
        Tensor y = Tensor.zeros(DType.FLOAT64, x.shape());
        Seq xs = Seq.of(x, layout), ys = Seq.of(y, layout);
        Seq ps = pre == null ? null : Seq.of(pre, layout), qs = post == null ? null : Seq.of(post, layout);
        double[] xr = new double[len], pr = new double[len], qr = new double[len], out = new double[len];
        for (int b = 0; b < s.batch(); b++) {
            for (int d = 0; d < s.channels(); d++) {
                xs.read(b, d, xr);
                if (ps != null) ps.read(b, d, pr);
                if (qs != null) qs.read(b, d, qr);
                double sk = skip == null ? 0 : skip.get(d);
                for (int t = 0; t < len; t++) {
                    double acc = 0;
                    for (int j = 0; j <= Math.min(t, s.taps() - 1); j++) acc += kk[d][j] * (ps == null ? 1 : pr[t - j]) * xr[t - j];
                    out[t] = (qs == null ? 1 : qr[t]) * acc + sk * xr[t];
                }
                ys.write(b, d, out);
            }
        }
        return y;
    }

    /** y[b,d,t] = sum_{s=0}^{L-1} k[d, t-s+L-1] x[b,d,s]; k holds lags -(L-1)..(L-1). */
    public static Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        double[][] kk = ChannelKernel.of(k, layout).readAll();
        int len = s.length();
        return perRow(x, layout, s, (d, in, out) -> {
            for (int t = 0; t < len; t++) {
                double acc = 0;
                for (int j = 0; j < len; j++) acc += kk[d][t - j + len - 1] * in[j];
                out[t] = acc;
            }
        });
    }

    /**
     * causal: y[b,d,t] = bias[d] + sum_j w[d,j] x[b,d,t-W+1+j];
     * same: y[b,d,t] = bias[d] + sum_j w[d,j] x[b,d,t-(W-1)/2+j]. Out-of-range x reads as 0.
     */
    public static Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, w, bias, mode, layout);
        double[][] ww = ChannelKernel.of(w, layout).readAll();
        int width = s.taps(), len = s.length();
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        return perRow(x, layout, s, (d, in, out) -> {
            double b0 = bias == null ? 0 : bias.get(d);
            for (int t = 0; t < len; t++) {
                double acc = b0;
                for (int j = 0; j < width; j++) {
                    int src = t - shift + j;
                    if (src >= 0 && src < len) acc += ww[d][j] * in[src];
                }
                out[t] = acc;
            }
        });
    }

    /**
     * y = W T W^T x per (b, d). W is the L x r linear-interpolation matrix onto inducing points
     * p_i = i (L-1)/(r-1); T[i,j] = kr[d, i-j+r-1]. Both W and T are built as dense matrices here.
     */
    public static Tensor ski(Tensor x, Tensor kr, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        double[][] kk = ChannelKernel.of(kr, layout).readAll();
        int len = s.length(), r = (s.taps() + 1) / 2;
        double[][] wm = interpolationMatrix(len, r);
        return perRow(x, layout, s, (d, in, out) -> {
            double[] u = new double[r];
            for (int i = 0; i < r; i++) for (int t = 0; t < len; t++) u[i] += wm[t][i] * in[t];
            double[] v = new double[r];
            for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) v[i] += kk[d][i - j + r - 1] * u[j];
            for (int t = 0; t < len; t++) {
                double acc = 0;
                for (int i = 0; i < r; i++) acc += wm[t][i] * v[i];
                out[t] = acc;
            }
        });
    }

    /**
     * The dense L x r interpolation matrix of ski. Row t has (p_{i+1}-t)/h on i and (t-p_i)/h on i+1
     * for the segment p_i &lt;= t &lt;= p_{i+1}; with L = 1 all points coincide and row 0 is e_0.
     */
    public static double[][] interpolationMatrix(int len, int r) {
        double[][] wm = new double[len][r];
        if (len == 1) {
            wm[0][0] = 1;
            return wm;
        }
        double h = (double) (len - 1) / (r - 1);
        for (int t = 0; t < len; t++) {
            for (int i = 0; i < r - 1; i++) {
                double p0 = SkiGrid.inducingPoint(i, len, r), p1 = SkiGrid.inducingPoint(i + 1, len, r);
                if (p0 <= t && t <= p1) {
                    wm[t][i] = (p1 - t) / h;
                    wm[t][i + 1] = (t - p0) / h;
                    break;
                }
            }
        }
        return wm;
    }

    /**
     * Full spectrum of the causal sequence whose DFT has real part {@code re} [D, N/2+1]:
     * e = irfft(re, N); h[0] = e[0], h[t] = 2 e[t] for 0 &lt; t &lt; N/2, h[N/2] = e[N/2], 0 above;
     * output rfft(h) as [D, N/2+1, 2].
     */
    public static Tensor causalSpectrum(Tensor re, int n) {
        int d = Check.causalSpectrum(re, n);
        int bins = n / 2 + 1;
        Tensor out = Tensor.zeros(DType.FLOAT64, d, bins, 2);
        for (int c = 0; c < d; c++) {
            double[] spec = new double[2 * bins];
            for (int f = 0; f < bins; f++) spec[2 * f] = re.get(c, f);
            double[] e = directIrfft(spec, bins, n);
            double[] h = new double[n];
            h[0] = e[0];
            for (int t = 1; t < n / 2; t++) h[t] = 2 * e[t];
            h[n / 2] = e[n / 2];
            double[] hs = directRfft(h, n);
            for (int f = 0; f < bins; f++) {
                out.set(hs[2 * f], c, f, 0);
                out.set(hs[2 * f + 1], c, f, 1);
            }
        }
        return out;
    }

    /** numpy.fft.rfft(x, n) along the last axis (crop or zero-pad to n), complex as a trailing axis of 2. */
    public static Tensor rfft(Tensor x, int n) {
        Check.rfft(x, n);
        int m = Math.toIntExact(x.dim(-1)), bins = n / 2 + 1;
        long rows = x.numel() / m;
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length - 1] = bins;
        outShape[shape.length] = 2;
        Tensor out = Tensor.zeros(DType.FLOAT64, outShape);
        double[] row = new double[n];
        for (long r = 0; r < rows; r++) {
            Arrays.fill(row, 0);
            for (int j = 0; j < Math.min(m, n); j++) row[j] = x.getFlat(r * m + j);
            double[] spec = directRfft(row, n);
            for (int f = 0; f < 2 * bins; f++) out.setFlat(r * 2 * bins + f, spec[f]);
        }
        return out;
    }

    /** numpy.fft.irfft(x, n) along the last complex axis: x [..., m, 2] (crop or zero-pad to n/2+1 bins) to [..., n]. */
    public static Tensor irfft(Tensor x, int n) {
        Check.irfft(x, n);
        int m = Math.toIntExact(x.dim(-2)), bins = n / 2 + 1;
        long rows = x.numel() / (2L * m);
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length - 1);
        outShape[outShape.length - 1] = n;
        Tensor out = Tensor.zeros(DType.FLOAT64, outShape);
        double[] spec = new double[2 * bins];
        for (long r = 0; r < rows; r++) {
            Arrays.fill(spec, 0);
            for (int f = 0; f < Math.min(m, bins) * 2; f++) spec[f] = x.getFlat(r * 2 * m + f);
            double[] y = directIrfft(spec, bins, n);
            for (int t = 0; t < n; t++) out.setFlat(r * n + t, y[t]);
        }
        return out;
    }

    /** C = op(A) op(B), triple loop. */
    public static Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        Tensor c = Tensor.zeros(DType.FLOAT64, g.m(), g.n());
        for (int i = 0; i < g.m(); i++) {
            for (int j = 0; j < g.n(); j++) {
                double acc = 0;
                for (int p = 0; p < g.k(); p++) {
                    acc += (transA ? a.get(p, i) : a.get(i, p)) * (transB ? b.get(j, p) : b.get(p, j));
                }
                c.set(acc, i, j);
            }
        }
        return c;
    }

    // ---------------------------------------------------------------- backward (vector-Jacobian products)
    // For y = op(x, k) and an upstream gradient gy of y's shape: dx = (dy/dx)^T gy, dk = (dy/dk)^T gy
    // summed over the batch. Written as the transposed sums of the forward definitions.

    /** causal-conv: dx[b,d,u] = sum_s k[d,s] gy[b,d,u+s]; dk[d,s] = sum_b sum_t gy[b,d,t] x[b,d,t-s] (0 for s >= L). */
    public static Grads causalConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        Check.gradient(Check.CAUSAL_CONV, gy, x);
        double[][] kk = ChannelKernel.of(k, layout).readAll();
        int len = s.length(), taps = s.taps();
        double[][] dk = new double[s.channels()][taps];
        Tensor dx = perRowBackward(x, gy, layout, s, (d, xr, g, out) -> {
            for (int u = 0; u < len; u++) {
                double acc = 0;
                for (int j = 0; j < taps && u + j < len; j++) acc += kk[d][j] * g[u + j];
                out[u] = acc;
            }
            for (int j = 0; j < taps; j++) {
                double acc = 0;
                for (int t = j; t < len; t++) acc += g[t] * xr[t - j];
                dk[d][j] += acc;
            }
        });
        return new Grads(dx, kernelTensor(dk, taps, layout), null);
    }

    /** toeplitz-conv: dx[b,d,s] = sum_t k[d,t-s+L-1] gy[b,d,t]; dk[d,t-s+L-1] += gy[b,d,t] x[b,d,s]. */
    public static Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        Check.gradient(Check.TOEPLITZ_CONV, gy, x);
        double[][] kk = ChannelKernel.of(k, layout).readAll();
        int len = s.length();
        double[][] dk = new double[s.channels()][2 * len - 1];
        Tensor dx = perRowBackward(x, gy, layout, s, (d, xr, g, out) -> {
            for (int j = 0; j < len; j++) {
                double acc = 0;
                for (int t = 0; t < len; t++) acc += kk[d][t - j + len - 1] * g[t];
                out[j] = acc;
            }
            for (int t = 0; t < len; t++) for (int j = 0; j < len; j++) dk[d][t - j + len - 1] += g[t] * xr[j];
        });
        return new Grads(dx, kernelTensor(dk, 2 * len - 1, layout), null);
    }

    /** short-conv: dx[u] = sum_j w[j] gy[u+shift-j]; dw[j] = sum_b sum_t gy[t] x[t-shift+j]; dbias = sum_b sum_t gy[t]. */
    public static Grads shortConvBackward(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, w, bias, mode, layout);
        Check.gradient(Check.SHORT_CONV, gy, x);
        double[][] ww = ChannelKernel.of(w, layout).readAll();
        int len = s.length(), width = s.taps();
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        double[][] dw = new double[s.channels()][width];
        double[] db = new double[s.channels()];
        Tensor dx = perRowBackward(x, gy, layout, s, (d, xr, g, out) -> {
            for (int u = 0; u < len; u++) {
                double acc = 0;
                for (int j = 0; j < width; j++) {
                    int t = u + shift - j;
                    if (t >= 0 && t < len) acc += ww[d][j] * g[t];
                }
                out[u] = acc;
            }
            for (int t = 0; t < len; t++) {
                db[d] += g[t];
                for (int j = 0; j < width; j++) {
                    int src = t - shift + j;
                    if (src >= 0 && src < len) dw[d][j] += g[t] * xr[src];
                }
            }
        });
        Tensor dbias = null;
        if (bias != null) {
            dbias = Tensor.zeros(DType.FLOAT64, s.channels());
            for (int d = 0; d < s.channels(); d++) dbias.set(db[d], d);
        }
        return new Grads(dx, kernelTensor(dw, width, layout), dbias);
    }

    /** ski: y = W T W^T x, so dx = W T^T W^T gy and dkr[i-j+r-1] += (W^T gy)[i] (W^T x)[j]. Dense matrices, as in the forward. */
    public static Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        Check.gradient(Check.SKI, gy, x);
        double[][] kk = ChannelKernel.of(kr, layout).readAll();
        int len = s.length(), r = (s.taps() + 1) / 2;
        double[][] wm = interpolationMatrix(len, r);
        double[][] dk = new double[s.channels()][s.taps()];
        Tensor dx = perRowBackward(x, gy, layout, s, (d, xr, g, out) -> {
            double[] u = new double[r], gv = new double[r], gu = new double[r];
            for (int i = 0; i < r; i++) {
                for (int t = 0; t < len; t++) {
                    u[i] += wm[t][i] * xr[t];
                    gv[i] += wm[t][i] * g[t];
                }
            }
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < r; j++) {
                    gu[j] += kk[d][i - j + r - 1] * gv[i];
                    dk[d][i - j + r - 1] += gv[i] * u[j];
                }
            }
            for (int t = 0; t < len; t++) {
                double acc = 0;
                for (int i = 0; i < r; i++) acc += wm[t][i] * gu[i];
                out[t] = acc;
            }
        });
        return new Grads(dx, kernelTensor(dk, s.taps(), layout), null);
    }

    private interface BackwardRow {
        void apply(int channel, double[] x, double[] gy, double[] dx);
    }

    private static Tensor perRowBackward(Tensor x, Tensor gy, Layout layout, Check.SeqDims s, BackwardRow op) {
        Tensor dx = Tensor.zeros(DType.FLOAT64, x.shape());
        Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout), out = Seq.of(dx, layout);
        double[] xr = new double[s.length()], g = new double[s.length()], res = new double[s.length()];
        for (int b = 0; b < s.batch(); b++) {
            for (int d = 0; d < s.channels(); d++) {
                xs.read(b, d, xr);
                gs.read(b, d, g);
                op.apply(d, xr, g, res);
                out.write(b, d, res);
            }
        }
        return dx;
    }

    /** [D][n] as a float64 kernel tensor in the layout's orientation. */
    private static Tensor kernelTensor(double[][] k, int n, Layout layout) {
        int d = k.length;
        Tensor t = Tensor.zeros(DType.FLOAT64, layout.kernelShape(d, n));
        for (int c = 0; c < d; c++) {
            for (int j = 0; j < n; j++) {
                if (layout == Layout.BDL) t.set(k[c][j], c, j);
                else t.set(k[c][j], j, c);
            }
        }
        return t;
    }

    // ---------------------------------------------------------------- direct DFTs

    /** X[f] = sum_t x[t] e^{-2 pi i f t / n} for f = 0..n/2, interleaved. The angle index (f t mod n) is exact. */
    public static double[] directRfft(double[] x, int n) {
        int bins = n / 2 + 1;
        double[] out = new double[2 * bins];
        for (int f = 0; f < bins; f++) {
            double sr = 0, si = 0;
            for (int t = 0; t < n; t++) {
                double ang = 2 * Math.PI * ((long) f * t % n) / n;
                sr += x[t] * Math.cos(ang);
                si -= x[t] * Math.sin(ang);
            }
            out[2 * f] = sr;
            out[2 * f + 1] = si;
        }
        return out;
    }

    /**
     * numpy irfft of {@code bins} = n/2+1 interleaved bins: the Hermitian extension's inverse DFT, with the
     * imaginary parts of bin 0 and (n even) bin n/2 ignored.
     */
    public static double[] directIrfft(double[] spec, int bins, int n) {
        double[] y = new double[n];
        for (int t = 0; t < n; t++) {
            double acc = spec[0];
            for (int f = 1; f < bins; f++) {
                double ang = 2 * Math.PI * ((long) f * t % n) / n;
                double term = spec[2 * f] * Math.cos(ang) - spec[2 * f + 1] * Math.sin(ang);
                acc += (n % 2 == 0 && f == n / 2) ? spec[2 * f] * Math.cos(ang) : 2 * term;
            }
            y[t] = acc / n;
        }
        return y;
    }

    // ---------------------------------------------------------------- plumbing

    private interface RowOp {
        void apply(int channel, double[] in, double[] out);
    }

    private static Tensor perRow(Tensor x, Layout layout, Check.SeqDims s, RowOp op) {
        Tensor y = Tensor.zeros(DType.FLOAT64, x.shape());
        Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
        double[] row = new double[s.length()], res = new double[s.length()];
        for (int b = 0; b < s.batch(); b++) {
            for (int d = 0; d < s.channels(); d++) {
                in.read(b, d, row);
                op.apply(d, row, res);
                out.write(b, d, res);
            }
        }
        return y;
    }
}
