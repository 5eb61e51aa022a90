package dev.longconv.backend.scalar;

import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.SkiGrid;
import dev.longconv.ops.spi.StreamBase;
import dev.longconv.ops.spi.StreamSchedule;
import dev.longconv.simd.RealFft;

import java.util.Arrays;

/**
 * The portable backend: plain Java, single-threaded, float64 arithmetic whatever the storage dtype.
 * Long convolutions run as {@link ScalarConvPlan}s: a plain-Java FFT of the cheapest fast size
 * (2^a 3^b 5^c) that avoids circular wrap-around, or the direct sum when it costs fewer operations.
 */
public final class ScalarBackend implements Backend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        return ScalarConvPlan.of(ConvProblem.causal(s.channels(), s.length(), s.taps(), layout, x.dtype()), k).apply(x);
    }

    @Override
    public Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        return ScalarConvPlan.of(ConvProblem.toeplitz(s.channels(), s.length(), layout, x.dtype()), k).apply(x);
    }

    /** float64 arithmetic on the partitioned schedule ({@link ScalarCausalStream}). */
    @Override
    public CausalStream causalStream(Tensor k, int batch, Layout layout) {
        Check.KernelDims kd = StreamBase.checkKernel(k, batch, layout);
        return new ScalarCausalStream(k, batch, layout, k.dtype(), StreamSchedule.of(kd.taps(), ScalarCausalStream.HEAD, ScalarCausalStream.HEAD));
    }

    @Override
    public ConvPlan plan(ConvProblem problem, Tensor k) {
        problem.checkKernel(k);
        return ScalarConvPlan.of(problem, k);
    }

    @Override
    public Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, w, bias, mode, layout);
        int len = s.length(), width = s.taps();
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        return perChannel(x, layout, s, w, (d, wr, in, out) -> {
            double b0 = bias == null ? 0 : bias.get(d);
            for (int t = 0; t < len; t++) {
                int j0 = Math.max(0, shift - t), j1 = Math.min(width, len + shift - t);
                double acc = b0;
                for (int j = j0; j < j1; j++) acc += wr[j] * in[t - shift + j];
                out[t] = acc;
            }
        });
    }

    @Override
    public Tensor ski(Tensor x, Tensor kr, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        int len = s.length(), r = (s.taps() + 1) / 2;
        SkiGrid grid = SkiGrid.of(len, r);
        int[] seg = grid.seg();
        double[] frac = grid.frac();
        double[] u = new double[r], v = new double[r];
        return perChannel(x, layout, s, kr, (d, kk, in, out) -> {
            Arrays.fill(u, 0);
            for (int t = 0; t < len; t++) {
                u[seg[t]] += (1 - frac[t]) * in[t];
                if (frac[t] != 0) u[seg[t] + 1] += frac[t] * in[t];
            }
            for (int i = 0; i < r; i++) {
                double acc = 0;
                for (int j = 0; j < r; j++) acc += kk[i - j + r - 1] * u[j];
                v[i] = acc;
            }
            for (int t = 0; t < len; t++) {
                double y = (1 - frac[t]) * v[seg[t]];
                if (frac[t] != 0) y += frac[t] * v[seg[t] + 1];
                out[t] = y;
            }
        });
    }

    @Override
    public Tensor causalSpectrum(Tensor re, int n) {
        int d = Check.causalSpectrum(re, n);
        int bins = n / 2 + 1;
        RealFft fft = RealFft.of(n);
        Tensor out = Tensor.zeros(re.dtype(), d, bins, 2);
        double[] spec = new double[2 * bins], h = new double[n];
        for (int c = 0; c < d; c++) {
            for (int f = 0; f < bins; f++) {
                spec[2 * f] = re.get(c, f);
                spec[2 * f + 1] = 0;
            }
            fft.inverse(spec, 0, h, 0);
            // Fold the negative-time half onto the positive: the causal sequence with this real spectrum.
            for (int t = 1; t < n / 2; t++) h[t] *= 2;
            for (int t = n / 2 + 1; t < n; t++) h[t] = 0;
            fft.forward(h, 0, spec, 0);
            for (int f = 0; f < 2 * bins; f++) out.setFlat((long) c * 2 * bins + f, spec[f]);
        }
        return out;
    }

    @Override
    public Tensor rfft(Tensor x, int n) {
        Check.rfft(x, n);
        int m = Math.toIntExact(x.dim(-1)), bins = n / 2 + 1;
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length - 1] = bins;
        outShape[shape.length] = 2;
        Tensor out = Tensor.zeros(x.dtype(), outShape);
        RealFft fft = RealFft.of(n);
        double[] row = new double[n], spec = new double[2 * bins];
        long rows = x.numel() / m;
        for (long r = 0; r < rows; r++) {
            Arrays.fill(row, 0);
            for (int j = 0; j < Math.min(m, n); j++) row[j] = x.getFlat(r * m + j);
            fft.forward(row, 0, spec, 0);
            for (int f = 0; f < 2 * bins; f++) out.setFlat(r * 2 * bins + f, spec[f]);
        }
        return out;
    }

    @Override
    public Tensor irfft(Tensor x, int n) {
        Check.irfft(x, n);
        int m = Math.toIntExact(x.dim(-2)), bins = n / 2 + 1;
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length - 1);
        outShape[outShape.length - 1] = n;
        Tensor out = Tensor.zeros(x.dtype(), outShape);
        RealFft fft = RealFft.of(n);
        double[] spec = new double[2 * bins], row = new double[n];
        long rows = x.numel() / (2L * m);
        for (long r = 0; r < rows; r++) {
            Arrays.fill(spec, 0);
            for (int f = 0; f < 2 * Math.min(m, bins); f++) spec[f] = x.getFlat(r * 2 * m + f);
            fft.inverse(spec, 0, row, 0);
            for (int t = 0; t < n; t++) out.setFlat(r * n + t, row[t]);
        }
        return out;
    }

    @Override
    public Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        int m = g.m(), n = g.n(), kk = g.k();
        // op(A) row-major [m][k] and op(B) row-major [k][n] in doubles, so the inner loop is unit-stride.
        double[] am = new double[Math.multiplyExact(m, kk)], bm = new double[Math.multiplyExact(kk, n)];
        for (int i = 0; i < m; i++) for (int p = 0; p < kk; p++) am[i * kk + p] = transA ? a.get(p, i) : a.get(i, p);
        for (int p = 0; p < kk; p++) for (int j = 0; j < n; j++) bm[p * n + j] = transB ? b.get(j, p) : b.get(p, j);
        Tensor c = Tensor.zeros(a.dtype(), m, n);
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            Arrays.fill(row, 0);
            for (int p = 0; p < kk; p++) {
                double aip = am[i * kk + p];
                int off = p * n;
                for (int j = 0; j < n; j++) row[j] += aip * bm[off + j];
            }
            for (int j = 0; j < n; j++) c.setAt((long) i * n + j, row[j]);
        }
        return c;
    }

    // ---------------------------------------------------------------- plumbing

    private interface RowKernel {
        void apply(int channel, double[] kernel, double[] in, double[] out);
    }

    /** Runs {@code op} on every (b, d) row, channel-major so each channel's kernel is read once for the whole batch. */
    private static Tensor perChannel(Tensor x, Layout layout, Check.SeqDims s, Tensor kernel, RowKernel op) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        try {
            Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
            ChannelKernel ck = ChannelKernel.of(kernel, layout);
            double[] kr = new double[ck.taps()];
            double[] row = new double[s.length()], res = new double[s.length()];
            for (int d = 0; d < s.channels(); d++) {
                ck.read(d, kr);
                for (int b = 0; b < s.batch(); b++) {
                    in.read(b, d, row);
                    op.apply(d, kr, row, res);
                    out.write(b, d, res);
                }
            }
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }
}
