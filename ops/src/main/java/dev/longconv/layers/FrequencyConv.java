package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Arrays;

/**
 * The product of the frequency-domain TNOs ({@link FdTno}, {@link FdTnoNoRpe}) on v [B, L, D] (BLD):
 * y = irfft(S ⊙ rfft(v, N), N)[:L] per channel, with the spectrum S [D, N/2+1, 2] given, and its adjoint.
 * Values go through [B, D, L] rows for the backend's rfft and irfft along L, in v's dtype.
 */
final class FrequencyConv {
    private FrequencyConv() {}

    /** Validates v [B, L>=1, D] float32/float64; returns {B, L}. */
    static int[] checkTokens(String op, Tensor v, String arg, int channels) {
        if (v == null || v.rank() != 3 || v.dim(2) != channels || v.dim(1) < 1 || v.dim(0) < 1
                || (v.dtype() != DType.FLOAT32 && v.dtype() != DType.FLOAT64)) {
            throw new LongConvException(op, arg, "[B, L>=1, " + channels + "] float32 or float64",
                    v == null ? "null" : v.dtype() + Arrays.toString(v.shape()));
        }
        return new int[] {Math.toIntExact(v.dim(0)), Math.toIntExact(v.dim(1))};
    }

    /** gy must have v's shape and dtype. */
    static void checkLike(String op, Tensor v, Tensor gy) {
        if (gy == null || !Arrays.equals(gy.shape(), v.shape()) || gy.dtype() != v.dtype()) {
            throw new LongConvException(op, "gy", v.dtype() + Arrays.toString(v.shape()) + " (as v)",
                    gy == null ? "null" : gy.dtype() + Arrays.toString(gy.shape()));
        }
    }

    /** [B, L, D] to [B, D, L]. */
    private static double[] toRows(double[] v, int b, int len, int d) {
        double[] out = new double[v.length];
        for (int i = 0; i < b; i++)
            for (int t = 0; t < len; t++)
                for (int c = 0; c < d; c++) out[(i * d + c) * len + t] = v[(i * len + t) * d + c];
        return out;
    }

    /** The first L of each row of [B, D, N] as [B, L, D]. */
    private static double[] fromRows(double[] y, int b, int len, int d, int n) {
        double[] out = new double[b * len * d];
        for (int i = 0; i < b; i++)
            for (int c = 0; c < d; c++)
                for (int t = 0; t < len; t++) out[(i * len + t) * d + c] = y[(i * d + c) * n + t];
        return out;
    }

    /** rfft along L of v [B, L, D] as [B, D, bins, 2]. */
    private static double[] transform(Backend be, Tensor v, int n) {
        int b = (int) v.dim(0), len = (int) v.dim(1), d = (int) v.dim(2);
        try (Tensor rows = TnoTensors.write(toRows(TnoTensors.read(v), b, len, d), v.dtype(), b, d, len); Tensor f = be.rfft(rows, n)) {
            return TnoTensors.read(f);
        }
    }

    /** irfft of [B, D, bins, 2] cropped to L, as a new [B, L, D] tensor of dtype dt. */
    private static Tensor inverse(Backend be, double[] spec, int b, int len, int d, int n, DType dt) {
        try (Tensor st = TnoTensors.write(spec, dt, b, d, n / 2 + 1, 2); Tensor y = be.irfft(st, n)) {
            return TnoTensors.write(fromRows(TnoTensors.read(y), b, len, d, n), dt, b, len, d);
        }
    }

    /** a ⊙ s (or a ⊙ conj(s)) per batch row, a [B, D, bins, 2], s [D, bins, 2]. */
    private static double[] multiply(double[] a, double[] s, boolean conjugate) {
        double[] out = new double[a.length];
        double sign = conjugate ? -1 : 1;
        for (int i = 0; i < a.length; i += 2) {
            int j = i % s.length;
            double ar = a[i], ai = a[i + 1], sr = s[j], si = sign * s[j + 1];
            out[i] = ar * sr - ai * si;
            out[i + 1] = ar * si + ai * sr;
        }
        return out;
    }

    /** y = irfft(S ⊙ rfft(v, N), N)[:L] for v [B, L, D] and S [D, N/2+1, 2]: a new tensor of v's dtype. */
    static Tensor apply(Backend be, Tensor v, double[] s, int n) {
        int b = (int) v.dim(0), len = (int) v.dim(1), d = (int) v.dim(2);
        return inverse(be, multiply(transform(be, v, n), s, false), b, len, d, n, v.dtype());
    }

    /**
     * The time-domain kernel of spectrum s [D, N/2+1, 2] (irfft at N), lags 0..taps-1, as a BLD kernel [taps, D] in dt:
     * what {@link #apply} convolves with. For a causal spectrum (zero past lag N/2) and inputs no longer than taps <= N/2,
     * apply's circular product is this kernel's linear causal convolution, so a stream of it continues apply exactly.
     */
    static Tensor causalKernel(Backend be, double[] s, int n, int d, int taps, DType dt) {
        int bins = n / 2 + 1;
        try (Tensor st = TnoTensors.write(s, dt, d, bins, 2); Tensor h = be.irfft(st, n)) {
            double[] hv = TnoTensors.read(h), k = new double[taps * d];
            for (int q = 0; q < d; q++) for (int t = 0; t < taps; t++) k[t * d + q] = hv[q * n + t];
            return TnoTensors.write(k, dt, taps, d);
        }
    }

    /** dv (the caller owns it) and dJ/dS [D, bins, 2] summed over the batch. */
    record Backward(Tensor dv, double[] spectrumGradient) {}

    /**
     * The adjoint of {@link #apply}. With P = S ⊙ X and G = rfft(gy zero-padded to N): dJ/dP = (w/N) G (w = 1 at
     * bins 0 and N/2, else 2; irfft ignores the imaginary parts there), dJ/dS = Σ_b dJ/dP ⊙ conj(X), and
     * dv = irfft(G ⊙ conj(S))[:L].
     */
    static Backward backward(Backend be, Tensor v, Tensor gy, double[] s, int n) {
        int b = (int) v.dim(0), len = (int) v.dim(1), d = (int) v.dim(2), bins = n / 2 + 1;
        double[] xf = transform(be, v, n), gf = transform(be, gy, n);
        double[] gs = new double[d * bins * 2];
        for (int i = 0; i < xf.length; i += 2) {
            int j = i % gs.length, m = (j / 2) % bins;
            boolean edge = m == 0 || m == bins - 1;
            double w = (edge ? 1.0 : 2.0) / n, gpr = w * gf[i], gpi = edge ? 0 : w * gf[i + 1];
            gs[j] += gpr * xf[i] + gpi * xf[i + 1];
            gs[j + 1] += -gpr * xf[i + 1] + gpi * xf[i];
        }
        return new Backward(inverse(be, multiply(gf, s, true), b, len, d, n, v.dtype()), gs);
    }

    /**
     * The adjoint of causalSpectrum (Re [D, bins] to S [D, bins, 2]): S = rfft(mask ⊙ irfft(Re)), with mask
     * 1 at t = 0 and N/2, 2 between, 0 above. Adjoints: of rfft, gh = N irfft(gS / w); of irfft with real
     * input, gRe = (w / N) Re rfft(ge).
     */
    static double[] causalSpectrumAdjoint(Backend be, double[] gs, int n, DType dt) {
        int bins = n / 2 + 1, ch = gs.length / (2 * bins);
        double[] scaled = new double[gs.length];
        for (int i = 0; i < gs.length; i++) {
            int m = (i / 2) % bins;
            scaled[i] = gs[i] * n / (m == 0 || m == bins - 1 ? 1.0 : 2.0);
        }
        double[] gh;
        try (Tensor t = TnoTensors.write(scaled, dt, ch, bins, 2); Tensor h = be.irfft(t, n)) {
            gh = TnoTensors.read(h);
        }
        for (int c = 0; c < ch; c++) {
            for (int t = 0; t < n; t++) gh[c * n + t] *= t == 0 || t == n / 2 ? 1 : t < n / 2 ? 2 : 0;
        }
        double[] e;
        try (Tensor t = TnoTensors.write(gh, dt, ch, n); Tensor f = be.rfft(t, n)) {
            e = TnoTensors.read(f);
        }
        double[] gre = new double[ch * bins];
        for (int c = 0; c < ch; c++) {
            for (int m = 0; m < bins; m++) gre[c * bins + m] = (m == 0 || m == bins - 1 ? 1.0 : 2.0) / n * e[(c * bins + m) * 2];
        }
        return gre;
    }
}
