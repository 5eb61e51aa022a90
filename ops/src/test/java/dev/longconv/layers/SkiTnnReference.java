package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;

import java.util.Map;

/**
 * Float64 references of ski-tnn's operators written from their definitions, independent of the layer code:
 * each operator as one dense L x L matrix per channel (M[c][t][s], y[t, c] = Σ_s M[c][t][s] x[s, c]), built from
 * the state_dict by name with plain loops, dense DFTs and dense interpolation. The values upstream computes in
 * float32 (torch's default dtype) are rounded to float32 here when the layer's input is float32 and, for the
 * positions of the low-rank part, always: the interpolation weights jump at the inducing points, so the reference
 * must take the same side of every comparison. Slow on purpose; small shapes only.
 */
final class SkiTnnReference {
    private SkiTnnReference() {}

    static double f32(double v) {
        return (float) v;
    }

    static double rd(DType dt, double v) {
        return dt == DType.FLOAT32 ? (float) v : v;
    }

    /** The circulant matrix of a kernel h of length n restricted to L x L: M[t][s] = h[(t - s) mod n]. */
    static double[][] circulant(double[] h, int len) {
        int n = h.length;
        double[][] m = new double[len][len];
        for (int t = 0; t < len; t++) for (int s = 0; s < len; s++) m[t][s] = h[Math.floorMod(t - s, n)];
        return m;
    }

    /** The kernel of a spectrum given at bins 0..n/2 (re, im; im ignored at 0 and n/2), by a dense inverse DFT. */
    static double[] inverseDft(double[] re, double[] im, int n) {
        double[] h = new double[n];
        for (int t = 0; t < n; t++) {
            double acc = 0;
            for (int m = 0; m <= n / 2; m++) {
                double ang = 2 * Math.PI * m * t / n, i = m == 0 || m == n / 2 ? 0 : im[m];
                double term = re[m] * Math.cos(ang) - i * Math.sin(ang);
                acc += m == 0 || m == n / 2 ? term : 2 * term;
            }
            h[t] = acc / n;
        }
        return h;
    }

    /** The causal kernel whose spectrum's real part is re: e = irfft(re), h = e at 0 and n/2, 2e between, 0 above. */
    static double[] causalKernel(double[] re, int n) {
        double[] e = inverseDft(re, new double[re.length], n);
        for (int t = 0; t < n; t++) e[t] *= t == 0 || t == n / 2 ? 1 : t < n / 2 ? 2 : 0;
        return e;
    }

    static int fftSize(FrequencyGrid g, int len) {
        return FdTnoTest.referenceSize(g, len);
    }

    /** TnoFD: per channel q = h·dim + c, the spectrum from rpe(ω) split per head (real block, then imaginary block). */
    static double[][][] fdTno(Map<String, Tensor> sd, String p, FdTno.Config c, int len) {
        int n = fftSize(c.grid(), len), bins = n / 2 + 1, d = c.dim(), ch = c.h() * d;
        double[] omega = c.grid() == FrequencyGrid.FAST ? null : TorchFloat32.linspace(0, Math.PI, bins);
        double[][] r = new double[bins][];
        for (int m = 0; m < bins; m++) {
            r[m] = TnnReference.rpe(omega == null ? Math.PI * m / (n / 2) : omega[m], sd, p + "rpe.", c.layers(), c.residual(),
                    c.act().upstreamName(), c.normType().upstreamName());
        }
        double[][][] out = new double[ch][][];
        for (int q = 0; q < ch; q++) {
            int col = c.causal() ? q : (q / d) * 2 * d + q % d;
            double[] re = new double[bins], im = new double[bins];
            for (int m = 0; m < bins; m++) {
                re[m] = r[m][col];
                if (!c.causal()) im[m] = r[m][col + d];
            }
            out[q] = circulant(c.causal() ? causalKernel(re, n) : inverseDft(re, im, n), len);
        }
        return out;
    }

    /** torch's linear interpolate of F values to n/2 bins with scale factor n/(2F), align_corners false. */
    static double interpolate(double[] values, int j, int n) {
        int f = values.length;
        double src = Math.max((2.0 * f / n) * (j + 0.5) - 0.5, 0);
        int i0 = (int) Math.floor(src), i1 = Math.min(i0 + 1, f - 1);
        double l = src - i0;
        return (1 - l) * values[i0] + l * values[i1];
    }

    /** TnoFDNoRPE: dc then the interpolated coefficients; shared by all heads. */
    static double[][][] fdTnoNoRpe(Map<String, Tensor> sd, String p, FdTnoNoRpe.Config c, int len) {
        int n = fftSize(c.grid(), len), bins = n / 2 + 1, d = c.dim(), f = c.numFreqs();
        double[][][] out = new double[c.h() * d][][];
        for (int cc = 0; cc < d; cc++) {
            double[] re = new double[bins], im = new double[bins];
            re[0] = sd.get(p + "dc").get(cc, 0);
            double[] a = row(sd.get(p + (c.causal() ? "coeffs" : "coeffs_re")), cc, f);
            double[] b = c.causal() ? null : row(sd.get(p + "coeffs_im"), cc, f);
            for (int m = 1; m < bins; m++) {
                re[m] = interpolate(a, m - 1, n);
                if (b != null) im[m] = interpolate(b, m - 1, n);
            }
            double[][] mat = circulant(c.causal() ? causalKernel(re, n) : inverseDft(re, im, n), len);
            for (int hh = 0; hh < c.h(); hh++) out[hh * d + cc] = mat;
        }
        return out;
    }

    static double[] row(Tensor t, int r, int n) {
        double[] v = new double[n];
        for (int j = 0; j < n; j++) v[j] = t.get(r, j);
        return v;
    }

    /** The sparse part: conv_kernel [ch, nk] as a "same" correlation, M[t][s] = w[s - t + nk/2]. */
    static double[][] sparse(Tensor ck, int q, int len) {
        int nk = (int) ck.dim(1), half = nk / 2;
        double[][] m = new double[len][len];
        for (int t = 0; t < len; t++) for (int s = 0; s < len; s++) if (Math.abs(s - t) <= half) m[t][s] = ck.get(q, s - t + half);
        return m;
    }

    /** A causal Toeplitz matrix from a(j), j = 0..L-1. */
    static double[][] lowerToeplitz(double[] a) {
        int len = a.length;
        double[][] m = new double[len][len];
        for (int t = 0; t < len; t++) for (int s = 0; s <= t; s++) m[t][s] = a[t - s];
        return m;
    }

    /** W T Wᵀ for W [L][r] and T[i][j] = kr[i - j + r - 1]. */
    static double[][] lowRank(double[][] w, double[] kr) {
        int len = w.length, r = w[0].length;
        double[][] m = new double[len][len];
        for (int t = 0; t < len; t++)
            for (int s = 0; s < len; s++) {
                double acc = 0;
                for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) acc += w[t][i] * kr[i - j + r - 1] * w[s][j];
                m[t][s] = acc;
            }
        return m;
    }

    static double[][] plus(double[][] a, double[][] b) {
        double[][] m = new double[a.length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a.length; j++) m[i][j] = a[i][j] + b[i][j];
        return m;
    }

    /**
     * Upstream's W: τ_t = torch.linspace(0, L, L) (float32), falloff γ^(τ_t L) with τ_t L in float32, k_t the first
     * index whose bound is >= τ_t clamped to [0, r-2], weight (τ_t - origin[k]) (r-1)/(L-1) at k and 1 - it at k+1.
     *
     * @param bounds the searchsorted boundaries; origin the values subtracted; dt the dtype of the weight arithmetic
     */
    static double[][] interpolationW(int len, int r, double[] bounds, double[] origin, double gamma, DType weights, DType falloffDt) {
        double[] tau = TorchFloat32.linspace(0, len, len);
        double[][] w = new double[len][r];
        for (int t = 0; t < len; t++) {
            int k = 0;
            while (k < r && bounds[k] < tau[t]) k++;
            k = Math.max(0, Math.min(k, r - 2));
            double wl = rd(weights, rd(weights, rd(weights, tau[t] - origin[k]) * (r - 1)) / (len - 1)), wu = rd(weights, 1 - wl);
            double e = f32(tau[t] * len);
            double falloff = falloffDt == DType.FLOAT32 ? f32(Math.pow(f32(gamma), e)) : Math.pow(gamma, e);
            w[t][k] = rd(falloffDt, falloff * wl);
            w[t][k + 1] = rd(falloffDt, falloff * wu);
        }
        return w;
    }

    /** torch's interpolate(p [r], L, linear, align_corners=True) at output j. */
    static double alignedCorners(double[] p, int j, int len) {
        int r = p.length;
        double src = len > 1 ? (double) j * (r - 1) / (len - 1) : 0;
        int i0 = (int) Math.floor(src), i1 = Math.min(i0 + 1, r - 1);
        double l = src - i0;
        return (1 - l) * p[i0] + l * p[i1];
    }

    /** Adds conv_kernel [ch, nk/2+1] to the first lags of a causal kernel. */
    static void addConvKernel(double[] a, Tensor ck, int q) {
        for (int j = 0; j < Math.min(a.length, ck.dim(1)); j++) a[j] += ck.get(q, j);
    }

    /** SKITno (buffers gamma [1] and inducing [r] in sd). */
    static double[][][] skiTnoRpe(Map<String, Tensor> sd, String p, SkiTnoRpe.Config c, int len, DType dt) {
        int r = c.r(), ch = c.h() * c.dim();
        double gamma = sd.get(p + "gamma").getFlat(0);
        double[] ind = sd.get(p + "inducing").toDoubleArray();
        String act = c.act().upstreamName(), norm = c.normType().upstreamName();
        Tensor ck = sd.get(p + "conv_kernel");
        double[][][] out = new double[ch][][];
        if (c.causal()) {
            double[][] pr = new double[r][];
            for (int k = 0; k < r; k++) pr[k] = TnnReference.rpe(rd(dt, ind[k] * (len - 1)), sd, p + "rpe.", c.layers(), c.residual(), act, norm);
            for (int q = 0; q < ch; q++) {
                double[] col = new double[r], a = new double[len];
                for (int k = 0; k < r; k++) col[k] = pr[k][q];
                for (int j = 0; j < len; j++) a[j] = TnnReference.act(c.actType().upstreamName(), alignedCorners(col, j, len)) * Math.pow(gamma, j);
                addConvKernel(a, ck, q);
                out[q] = lowerToeplitz(a);
            }
            return out;
        }
        double[] bounds = new double[r];
        for (int k = 0; k < r; k++) bounds[k] = rd(dt, ind[k] * (len - 1));
        double[][] w = interpolationW(len, r, bounds, ind, gamma, dt, dt);
        double[][] pr = new double[2 * r - 1][];
        for (int m = -(r - 1); m <= r - 1; m++) {
            pr[m + r - 1] = TnnReference.rpe(m < 0 ? -ind[-m] : ind[m], sd, p + "rpe.", c.layers(), c.residual(), act, norm);
        }
        for (int q = 0; q < ch; q++) {
            double[] kr = new double[2 * r - 1];
            for (int i = 0; i < kr.length; i++) kr[i] = TnnReference.act(c.actType().upstreamName(), pr[i][q]);
            out[q] = plus(sparse(ck, q, len), lowRank(w, kr));
        }
        return out;
    }

    /** The inducing positions of SKITnoInvTime: float32(float32(k (L-1)) / float32(r-1)). */
    static double[] invTimePositions(int r, int len) {
        double[] p = new double[r];
        for (int k = 0; k < r; k++) p[k] = f32(f32((double) k * (len - 1)) / f32(r - 1));
        return p;
    }

    /**
     * The inverse-time grid at τ: u = sign0(τ) γ^|τ|, read at 2u - 1 (causal) or u (bidirectional) on [-1, 1], the
     * grid's points evenly on [-1, 1], zero outside.
     */
    static double invTimeSample(double tau, double gamma, double[] grid, boolean causal) {
        double u = (tau >= 0 ? 1 : -1) * Math.pow(gamma, Math.abs(tau)), x = causal ? 2 * u - 1 : u;
        double ix = (x + 1) / 2 * (grid.length - 1);
        int i0 = (int) Math.floor(ix);
        double l = ix - i0;
        double v0 = i0 >= 0 && i0 < grid.length ? grid[i0] : 0, v1 = i0 + 1 < grid.length ? grid[i0 + 1] : 0;
        return (1 - l) * v0 + l * v1;
    }

    /** SKITnoInvTime (buffer gamma [1] in sd). */
    static double[][][] skiTnoInvTime(Map<String, Tensor> sd, String p, SkiTnoInvTime.Config c, int len, DType dt) {
        int r = c.r(), ch = c.h() * c.dim();
        double gamma = sd.get(p + "gamma").getFlat(0);
        double[] pos = invTimePositions(r, len);
        Tensor ck = sd.get(p + "conv_kernel"), alphas = sd.get(p + "alphas"), betas = sd.get(p + "betas");
        double[][][] out = new double[ch][][];
        double[][] w = c.causal() ? null : interpolationW(len, r, pos, pos, gamma, DType.FLOAT32, dt);
        for (int q = 0; q < ch; q++) {
            double[] grid;
            if (c.causal()) {
                grid = new double[r + 1]; // [0, alphas]
                for (int k = 0; k < r; k++) grid[1 + k] = alphas.get(0, q, 0, k);
                double[] g = new double[r], a = new double[len];
                for (int k = 0; k < r; k++) g[k] = invTimeSample(pos[k], gamma, grid, true);
                for (int j = 0; j < len; j++) a[j] = alignedCorners(g, j, len);
                addConvKernel(a, ck, q);
                out[q] = lowerToeplitz(a);
            } else {
                grid = new double[2 * r + 1]; // [betas, 0, alphas]
                for (int k = 0; k < r; k++) {
                    grid[k] = betas.get(0, q, 0, k);
                    grid[r + 1 + k] = alphas.get(0, q, 0, k);
                }
                double[] kr = new double[2 * r - 1];
                for (int m = -(r - 1); m <= r - 1; m++) kr[m + r - 1] = invTimeSample(m < 0 ? -pos[-m] : pos[m], gamma, grid, false);
                out[q] = plus(sparse(ck, q, len), lowRank(w, kr));
            }
        }
        return out;
    }

    /** y [B, L, ch] = M x per channel, as a float64 tensor; x [B, L, ch]. */
    static Tensor apply(double[][][] m, Tensor x) {
        int b = (int) x.dim(0), len = (int) x.dim(1), ch = (int) x.dim(2);
        Tensor y = Tensor.zeros(DType.FLOAT64, b, len, ch);
        for (int i = 0; i < b; i++)
            for (int q = 0; q < ch; q++)
                for (int t = 0; t < len; t++) {
                    double acc = 0;
                    for (int s = 0; s < len; s++) acc += m[q][t][s] * x.get(i, s, q);
                    y.set(acc, i, t, q);
                }
        return y;
    }
}
