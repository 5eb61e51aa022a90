package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.simd.FftSizes;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Frequency-domain Toeplitz neural operator: the relative position encoder ({@link Rpe}, state_dict
 * {@code rpe.*} as in {@link Tno}) gives the frequency response directly, so the kernel costs no FFT.
 * With N = {@link #fftSize}(L) and ω_m = π m / (N/2), m = 0..N/2:
 * <pre>
 *   causal:         S = causalSpectrum(Re),  Re[c, m] = rpe(ω_m)[c]                    (outdim H·dim)
 *   bidirectional:  S[c, m] = rpe(ω_m)[c] + i rpe(ω_m)[H·dim + c], Im forced to 0 at m = 0, N/2   (outdim 2·H·dim)
 *   y = irfft(S ⊙ rfft(x, N), N)[:L]   per head h and channel c (c' = h·dim + c)
 * </pre>
 * The causal spectrum completes the real part through the discrete Hilbert transform, so the kernel
 * h = irfft(S) vanishes at negative times and y is causal. No upstream code exists for this layer; the
 * names follow Tno's.
 *
 * <p>Input x is [B, H, L, dim] as Tno's; it is transposed once into [B, H·dim, L] rows for the backend's
 * rfft/irfft along L, and the result back. Spectra and transforms are in x's dtype; the encoder in float64.
 *
 * <p>Hyperparameters for {@link #load}: h, dim, rpe_dim (required), causal (false), residual (false),
 * act ("relu"), bias (true), layers (3), norm_type ("simplermsnorm").
 */
public final class FdTno implements Layer {
    public static final String NAME = "fd-tno";

    /** Hyperparameters; see the class comment. */
    public record Config(int h, int dim, int rpeDim, boolean causal, boolean residual, Activation act, boolean bias, int layers,
                         NormType normType) {
        public Config {
            if (h < 1 || dim < 1 || rpeDim < 1 || layers < 0) {
                throw new LongConvException(NAME, "config", "h, dim, rpe_dim >= 1 and layers >= 0",
                        "h=" + h + " dim=" + dim + " rpe_dim=" + rpeDim + " layers=" + layers);
            }
        }

        public static Config defaults(int h, int dim, int rpeDim) {
            return new Config(h, dim, rpeDim, false, false, Activation.RELU, true, 3, NormType.SIMPLE_RMS);
        }

        Rpe.Config rpe() {
            return new Rpe.Config(rpeDim, (causal ? 1 : 2) * h * dim, residual, act, bias, layers, normType);
        }
    }

    private final Config config;
    private final Map<String, Tensor> params;
    private final Rpe rpe;

    public FdTno(Config config, Map<String, Tensor> stateDict) {
        this.config = config;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.rpe = new Rpe(NAME, config.rpe(), "rpe.", p);
        this.params = Collections.unmodifiableMap(p);
    }

    public static FdTno load(Weights w, Map<String, String> overrides) {
        TnoHyperparameters p = new TnoHyperparameters(NAME, w.metadata(), overrides);
        Config c = new Config(p.integer("h"), p.integer("dim"), p.integer("rpe_dim"), p.flag("causal", false), p.flag("residual", false),
                p.activation("act", "relu"), p.flag("bias", true), p.integer("layers", 3), p.norm("norm_type", "simplermsnorm"));
        Map<String, Tensor> m = new LinkedHashMap<>();
        shapes(c).forEach((n, s) -> m.put(n, w.get(NAME, n, s)));
        return new FdTno(c, m);
    }

    public static Map<String, long[]> shapes(Config c) {
        return Rpe.shapes(c.rpe(), "rpe.");
    }

    /**
     * The FFT size for length L: the smallest even 2^a 3^b 5^c that is at least 2L, i.e. twice the
     * smallest such size at least L, so that N/2 >= L keeps the product linear and the causal kernel's
     * support (0..N/2) clear of the wrap-around.
     */
    public static int fftSize(int len) {
        return Math.multiplyExact(2, FftSizes.nextFast(len));
    }

    public Config config() {
        return config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Tensor> parameters() {
        return params;
    }

    /** The encoder's frequency grid for size n: ω_m = π m / (n/2). */
    private static double[] frequencies(int n) {
        int bins = n / 2 + 1;
        double[] w = new double[bins];
        for (int m = 0; m < bins; m++) w[m] = Math.PI * m / (n / 2);
        return w;
    }

    /** S as [D, bins, 2] interleaved (re, im) per channel, and the encoder pass. */
    private record Spectrum(int n, double[] s, Rpe.Pass pass) {}

    private Spectrum spectrum(Backend be, int n, DType dt, boolean forBackward) {
        int bins = n / 2 + 1, ch = config.h * config.dim;
        Rpe.Pass pass = rpe.forward(be, dt, frequencies(n), forBackward);
        double[] r = pass.output(), s;
        int out = config.rpe().outdim();
        if (config.causal) {
            double[] re = new double[ch * bins];
            for (int m = 0; m < bins; m++) for (int c = 0; c < ch; c++) re[c * bins + m] = r[m * out + c];
            try (Tensor ret = TnoTensors.write(re, dt, ch, bins); Tensor st = be.causalSpectrum(ret, n)) {
                s = TnoTensors.read(st);
            }
        } else {
            s = new double[ch * bins * 2];
            for (int m = 0; m < bins; m++) {
                boolean real = m == 0 || m == bins - 1;
                for (int c = 0; c < ch; c++) {
                    s[(c * bins + m) * 2] = r[m * out + c];
                    s[(c * bins + m) * 2 + 1] = real ? 0 : r[m * out + ch + c];
                }
            }
        }
        return new Spectrum(n, s, pass);
    }

    /** [B, H, L, dim] to [B, H·dim, L]. */
    private static double[] toChannels(double[] x, int b, int h, int len, int d) {
        double[] out = new double[x.length];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < h; j++)
                for (int t = 0; t < len; t++)
                    for (int c = 0; c < d; c++) out[((i * h + j) * d + c) * len + t] = x[((i * h + j) * len + t) * d + c];
        return out;
    }

    /** The first L of each row of [B, H·dim, N] back into [B, H, L, dim]. */
    private static double[] fromChannels(double[] y, int b, int h, int len, int d, int n) {
        double[] out = new double[b * h * len * d];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < h; j++)
                for (int t = 0; t < len; t++)
                    for (int c = 0; c < d; c++) out[((i * h + j) * len + t) * d + c] = y[((i * h + j) * d + c) * n + t];
        return out;
    }

    /** rfft along L of x [B, H, L, dim] as rows [B, D, bins, 2], in x's dtype. */
    private static double[] transformRows(Backend be, Tensor x, int[] s, int n) {
        double[] rows = toChannels(TnoTensors.read(x), s[0], s[1], s[2], s[3]);
        try (Tensor xt = TnoTensors.write(rows, x.dtype(), s[0], (long) s[1] * s[3], s[2]); Tensor f = be.rfft(xt, n)) {
            return TnoTensors.read(f);
        }
    }

    /** irfft of rows [B, D, bins, 2] cropped to L, as [B, H, L, dim] in dtype dt. */
    private static Tensor inverseRows(Backend be, double[] spec, int[] s, int n, DType dt) {
        int bins = n / 2 + 1;
        try (Tensor st = TnoTensors.write(spec, dt, s[0], (long) s[1] * s[3], bins, 2); Tensor y = be.irfft(st, n)) {
            return TnoTensors.write(fromChannels(TnoTensors.read(y), s[0], s[1], s[2], s[3], n), dt, s[0], s[1], s[2], s[3]);
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

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = checkInput(x, "x");
        int n = fftSize(s[2]);
        Spectrum sp = spectrum(backend, n, x.dtype(), false);
        return inverseRows(backend, multiply(transformRows(backend, x, s, n), sp.s(), false), s, n, x.dtype());
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int[] s = checkInput(x, "x");
        if (!Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy.dtype() + Arrays.toString(gy.shape()));
        }
        int n = fftSize(s[2]), bins = n / 2 + 1, ch = config.h * config.dim;
        DType dt = x.dtype();
        Spectrum sp = spectrum(backend, n, dt, true);
        double[] xf = transformRows(backend, x, s, n), gf = transformRows(backend, gy, s, n);
        // y = irfft(P)[:L], P = S ⊙ X. With G = rfft(gy padded to N): dJ/dP = (w/N) G (w = 1 at bins 0 and N/2, else 2;
        // the imaginary parts there are ignored by irfft), dJ/dS = Σ_b dJ/dP ⊙ conj(X), dx = irfft(G ⊙ conj(S))[:L].
        double[] gs = new double[ch * bins * 2];
        for (int i = 0; i < xf.length; i += 2) {
            int j = i % gs.length, m = (j / 2) % bins;
            boolean edge = m == 0 || m == bins - 1;
            double w = (edge ? 1.0 : 2.0) / n, gpr = w * gf[i], gpi = edge ? 0 : w * gf[i + 1];
            gs[j] += gpr * xf[i] + gpi * xf[i + 1];
            gs[j + 1] += -gpr * xf[i + 1] + gpi * xf[i];
        }
        Tensor dx = inverseRows(backend, multiply(gf, sp.s(), true), s, n, dt);
        try {
            int out = config.rpe().outdim();
            double[] gr = new double[bins * out];
            if (config.causal) {
                double[] gre = causalSpectrumAdjoint(backend, gs, n, dt);
                for (int m = 0; m < bins; m++) for (int c = 0; c < ch; c++) gr[m * out + c] = gre[c * bins + m];
            } else {
                for (int m = 0; m < bins; m++) {
                    boolean real = m == 0 || m == bins - 1;
                    for (int c = 0; c < ch; c++) {
                        gr[m * out + c] = gs[(c * bins + m) * 2];
                        gr[m * out + ch + c] = real ? 0 : gs[(c * bins + m) * 2 + 1];
                    }
                }
            }
            Map<String, double[]> grads = rpe.backward(backend, dt, sp.pass(), gr);
            Map<String, Tensor> g = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> p : params.entrySet()) g.put(p.getKey(), TnoTensors.write(grads.get(p.getKey()), dt, p.getValue().shape()));
            return new LayerGrads(dx, g);
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
    }

    /**
     * The adjoint of causalSpectrum (Re [D, bins] to S [D, bins, 2]): S = rfft(mask ⊙ irfft(Re)), with mask
     * 1 at t = 0 and N/2, 2 between, 0 above. Adjoints: of rfft, gh = N irfft(gS / w); of irfft with real
     * input, gRe = (w / N) Re rfft(ge).
     */
    private static double[] causalSpectrumAdjoint(Backend be, double[] gs, int n, DType dt) {
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

    private int[] checkInput(Tensor x, String arg) {
        if (x == null || x.rank() != 4 || x.dim(1) != config.h || x.dim(3) != config.dim || x.dim(2) < 1 || x.dim(0) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[B, H=" + config.h + ", L>=1, dim=" + config.dim + "] float32 or float64",
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), config.h, Math.toIntExact(x.dim(2)), config.dim};
    }
}
