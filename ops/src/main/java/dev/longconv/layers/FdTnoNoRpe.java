package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Frequency-domain TNO with directly learned frequency coefficients, ski-tnn's {@code TnoFDNoRPE}
 * (jonathanmei/ski-tnn, {@code laxtnn/modules/tno_fd_norpe.py}). Each of the dim channels (shared by all H
 * heads) has F = num_freqs coefficients per part, linearly interpolated to the N/2 non-DC bins of the FFT
 * size N of the {@link FrequencyGrid} (torch's {@code interpolate(mode="linear")} with scale factor
 * N / (2F), align_corners false: bin 1 + j reads the coefficients at (2F/N)(j + 1/2) - 1/2, clamped at 0),
 * after a learned DC value:
 * <pre>
 *   causal:         Re[c] = [dc[c], interp(coeffs[c])],  S = causalSpectrum(Re)
 *   bidirectional:  S[c] = [dc[c], interp(coeffs_re[c]) + i interp(coeffs_im[c])], Im forced to 0 at N/2
 *   y = irfft(S ⊙ rfft(x, N), N)[:L]   per head and channel c
 * </pre>
 * On upstream's grid the number of interpolated bins is ⌊F · N/(2F)⌋ computed in float64 as torch does; where
 * that is not N/2 upstream fails, and so does this layer (with the sizes in the message).
 *
 * <p>Input x is [B, H, L, dim]; as a {@link Gtu}'s operator it takes v [B, L, H·dim]. state_dict: coeffs [dim, F]
 * (causal) or coeffs_re, coeffs_im [dim, F] (bidirectional), then dc [dim, 1]. Hyperparameters for {@link #load}:
 * h, dim (required), causal (false), num_freqs (128), fft_size ("upstream" or "fast").
 */
public final class FdTnoNoRpe implements Layer, TokenMixer {
    public static final String NAME = "fd-tno-norpe";

    /** Hyperparameters; see the class comment. */
    public record Config(int h, int dim, boolean causal, int numFreqs, FrequencyGrid grid) {
        public Config {
            if (h < 1 || dim < 1 || numFreqs < 1) {
                throw new LongConvException(NAME, "config", "h, dim, num_freqs >= 1", "h=" + h + " dim=" + dim + " num_freqs=" + numFreqs);
            }
            if (grid == null) throw new LongConvException(NAME, "fft_size", "a frequency grid", "null");
        }

        static Config parse(TnoHyperparameters p) {
            return new Config(p.integer("h"), p.integer("dim"), p.flag("causal", false), p.integer("num_freqs", 128),
                    FrequencyGrid.parse(p.string("fft_size", "upstream"), NAME));
        }
    }

    private final Config config;
    private final String prefix;
    private final Map<String, Tensor> params;

    public FdTnoNoRpe(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    /** The operator of a larger module whose parameters are named {@code prefix} + these names ("toep." in Gtu). */
    FdTnoNoRpe(Config config, String prefix, Map<String, Tensor> stateDict) {
        this.config = config;
        this.prefix = prefix;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config, prefix).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.params = Collections.unmodifiableMap(p);
    }

    public static FdTnoNoRpe load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides));
        return new FdTnoNoRpe(c, Tno.fetch(w, shapes(c, "")));
    }

    /** state_dict names and shapes under {@code prefix}, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c, String prefix) {
        Map<String, long[]> s = new LinkedHashMap<>();
        for (String n : c.causal ? new String[] {"coeffs"} : new String[] {"coeffs_re", "coeffs_im"}) {
            s.put(prefix + n, new long[] {c.dim, c.numFreqs});
        }
        s.put(prefix + "dc", new long[] {c.dim, 1});
        return s;
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

    /**
     * The linear interpolation from F coefficients to the N/2 non-DC bins: bin 1 + j reads index lo[j] with
     * weight wlo[j] and hi[j] with whi[j]. Positions are computed in dtype dt as torch does.
     */
    record Interpolation(int[] lo, int[] hi, double[] wlo, double[] whi) {}

    Interpolation interpolation(int n, DType dt) {
        int f = config.numFreqs, half = n / 2;
        double scale;
        if (config.grid == FrequencyGrid.UPSTREAM) {
            double sf = (double) n / (2.0 * f);
            long outSize = (long) (f * sf);
            if (outSize != half) {
                throw new LongConvException(NAME, "num_freqs", "num_freqs * (N / (2 num_freqs)) to round down to N/2 = " + half
                        + " (upstream's interpolate gives the wrong number of bins otherwise)", "num_freqs=" + f + ", N=" + n + ": " + outSize);
            }
            scale = 1.0 / sf;
        } else {
            scale = 2.0 * f / n;
        }
        boolean single = dt == DType.FLOAT32;
        double sc = single ? (float) scale : scale;
        int[] lo = new int[half], hi = new int[half];
        double[] wlo = new double[half], whi = new double[half];
        for (int j = 0; j < half; j++) {
            double src = sc * (j + 0.5) - 0.5;
            if (single) src = (float) src;
            if (src < 0) src = 0;
            int i0 = (int) src;
            lo[j] = i0;
            hi[j] = i0 < f - 1 ? i0 + 1 : i0;
            double l1 = Math.min(Math.max(src - i0, 0), 1);
            if (single) l1 = (float) l1;
            whi[j] = l1;
            wlo[j] = single ? (float) (1 - l1) : 1 - l1;
        }
        return new Interpolation(lo, hi, wlo, whi);
    }

    private double[] interpolate(double[] c, Interpolation ip) {
        int f = config.numFreqs, half = ip.lo.length;
        double[] out = new double[config.dim * half];
        for (int d = 0; d < config.dim; d++) {
            for (int j = 0; j < half; j++) out[d * half + j] = ip.wlo[j] * c[d * f + ip.lo[j]] + ip.whi[j] * c[d * f + ip.hi[j]];
        }
        return out;
    }

    private double[] value(String name) {
        return TnoTensors.read(params.get(prefix + name));
    }

    /** S per channel of one head, [dim, bins, 2]. */
    private double[] headSpectrum(Backend be, int n, DType dt, Interpolation ip) {
        int bins = n / 2 + 1, dim = config.dim;
        double[] dc = value("dc");
        if (config.causal) {
            double[] c = interpolate(value("coeffs"), ip), re = new double[dim * bins];
            for (int d = 0; d < dim; d++) {
                re[d * bins] = dc[d];
                System.arraycopy(c, d * (bins - 1), re, d * bins + 1, bins - 1);
            }
            try (Tensor ret = TnoTensors.write(re, dt, dim, bins); Tensor st = be.causalSpectrum(ret, n)) {
                return TnoTensors.read(st);
            }
        }
        double[] cr = interpolate(value("coeffs_re"), ip), ci = interpolate(value("coeffs_im"), ip), s = new double[dim * bins * 2];
        for (int d = 0; d < dim; d++) {
            s[d * bins * 2] = dc[d];
            for (int m = 1; m < bins; m++) {
                s[(d * bins + m) * 2] = cr[d * (bins - 1) + m - 1];
                s[(d * bins + m) * 2 + 1] = m == bins - 1 ? 0 : ci[d * (bins - 1) + m - 1];
            }
        }
        return s;
    }

    /** The head spectrum repeated for every head: [H·dim, bins, 2]. */
    private double[] repeatHeads(double[] s) {
        double[] out = new double[s.length * config.h];
        for (int h = 0; h < config.h; h++) System.arraycopy(s, 0, out, h * s.length, s.length);
        return out;
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = checkInput(x);
        int b = s[0], h = s[1], len = s[2], d = s[3];
        try (Tensor v = TnoTensors.write(TnoTensors.headsToTokens(TnoTensors.read(x), b, h, len, d), x.dtype(), b, len, (long) h * d);
             Tensor y = mix(backend, v)) {
            return TnoTensors.write(TnoTensors.tokensToHeads(TnoTensors.read(y), b, h, len, d), x.dtype(), x.shape());
        }
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int[] s = checkInput(x);
        if (!Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy.dtype() + Arrays.toString(gy.shape()));
        }
        int b = s[0], h = s[1], len = s[2], d = s[3];
        TokenMixer.MixGrads g;
        try (Tensor v = TnoTensors.write(TnoTensors.headsToTokens(TnoTensors.read(x), b, h, len, d), x.dtype(), b, len, (long) h * d);
             Tensor gt = TnoTensors.write(TnoTensors.headsToTokens(TnoTensors.read(gy), b, h, len, d), x.dtype(), b, len, (long) h * d)) {
            g = mixBackward(backend, v, gt);
        }
        try (Tensor dv = g.dv()) {
            Tensor dx = TnoTensors.write(TnoTensors.tokensToHeads(TnoTensors.read(dv), b, h, len, d), x.dtype(), x.shape());
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> p : params.entrySet()) out.put(p.getKey(), TnoTensors.write(g.params().get(p.getKey()), x.dtype(), p.getValue().shape()));
            return new LayerGrads(dx, out);
        }
    }

    private int[] checkInput(Tensor x) {
        if (x == null || x.rank() != 4 || x.dim(1) != config.h || x.dim(3) != config.dim || x.dim(2) < 1 || x.dim(0) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, "x", "[B, H=" + config.h + ", L>=1, dim=" + config.dim + "] float32 or float64",
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), config.h, Math.toIntExact(x.dim(2)), config.dim};
    }

    @Override
    public Tensor mix(Backend backend, Tensor v) {
        int[] s = FrequencyConv.checkTokens(NAME, v, "v", config.h * config.dim);
        int n = config.grid.fftSize(s[1]);
        double[] sp = repeatHeads(headSpectrum(backend, n, v.dtype(), interpolation(n, v.dtype())));
        return FrequencyConv.apply(backend, v, sp, n);
    }

    @Override
    public PreparedLayer prepare(Backend backend, DType dtype, int length) {
        return HeadsServing.prepare(this, this, config.h, config.dim, backend, dtype, length);
    }

    @Override
    public LayerSession session(Backend backend, DType dtype, int batch, int maxLength) {
        return HeadsServing.session(this, this, config.h, config.dim, backend, dtype, batch, maxLength);
    }

    /** The spectrum of {@code length}'s grid computed once; each mix is the FFT product alone. */
    @Override
    public TokenMixer.PreparedMix prepareMix(Backend backend, DType dtype, int length) {
        int n = fftSize0(length);
        double[] sp = repeatHeads(headSpectrum(backend, n, dtype, interpolation(n, dtype)));
        return v -> {
            int[] s = FrequencyConv.checkTokens(NAME, v, "v", config.h * config.dim);
            if (s[1] != length) throw new LongConvException(NAME, "v", "L=" + length + " (as prepared)", "L=" + s[1]);
            return FrequencyConv.apply(backend, v, sp, n);
        };
    }

    /** A causal operator streamed: the time-domain kernel of maxLength's spectrum ({@link FrequencyConv#causalKernel}). */
    @Override
    public TokenMixer.MixSession mixSession(Backend backend, DType dtype, int batch, int maxLength) {
        if (!config.causal) throw new LongConvException(NAME, "session", "a causal operator (a bidirectional one reads future steps)", "causal=false");
        int n = fftSize0(maxLength);
        double[] sp = repeatHeads(headSpectrum(backend, n, dtype, interpolation(n, dtype)));
        try (Tensor k = FrequencyConv.causalKernel(backend, sp, n, config.h * config.dim, maxLength, dtype)) {
            return StreamMix.of(backend.causalStream(k, batch, Layout.BLD));
        }
    }

    @Override
    public TokenMixer.MixGrads mixBackward(Backend backend, Tensor v, Tensor gy) {
        int[] s = FrequencyConv.checkTokens(NAME, v, "v", config.h * config.dim);
        FrequencyConv.checkLike(NAME, v, gy);
        int n = config.grid.fftSize(s[1]), bins = n / 2 + 1, dim = config.dim, f = config.numFreqs;
        DType dt = v.dtype();
        Interpolation ip = interpolation(n, dt);
        FrequencyConv.Backward fb = FrequencyConv.backward(backend, v, gy, repeatHeads(headSpectrum(backend, n, dt, ip)), n);
        try {
            // Sum the spectrum gradient over heads: [dim, bins, 2].
            double[] all = fb.spectrumGradient(), gs = new double[dim * bins * 2];
            for (int i = 0; i < all.length; i++) gs[i % gs.length] += all[i];
            Map<String, double[]> grads = new LinkedHashMap<>();
            double[] gdc = new double[dim];
            if (config.causal) {
                double[] gre = FrequencyConv.causalSpectrumAdjoint(backend, gs, n, dt), gc = new double[dim * f];
                for (int d = 0; d < dim; d++) {
                    gdc[d] = gre[d * bins];
                    scatter(gre, d * bins + 1, 1, ip, gc, d * f);
                }
                grads.put(prefix + "coeffs", gc);
            } else {
                double[] gcr = new double[dim * f], gci = new double[dim * f], re = new double[bins - 1], im = new double[bins - 1];
                for (int d = 0; d < dim; d++) {
                    gdc[d] = gs[d * bins * 2];
                    for (int m = 1; m < bins; m++) {
                        re[m - 1] = gs[(d * bins + m) * 2];
                        im[m - 1] = m == bins - 1 ? 0 : gs[(d * bins + m) * 2 + 1];
                    }
                    scatter(re, 0, 1, ip, gcr, d * f);
                    scatter(im, 0, 1, ip, gci, d * f);
                }
                grads.put(prefix + "coeffs_re", gcr);
                grads.put(prefix + "coeffs_im", gci);
            }
            grads.put(prefix + "dc", gdc);
            return new TokenMixer.MixGrads(fb.dv(), grads);
        } catch (RuntimeException | Error e) {
            fb.dv().close();
            throw e;
        }
    }

    /** The interpolation's adjoint: g[from + stride·j] flows to out[at + lo[j]] and out[at + hi[j]]. */
    private static void scatter(double[] g, int from, int stride, Interpolation ip, double[] out, int at) {
        for (int j = 0; j < ip.lo.length; j++) {
            double v = g[from + stride * j];
            out[at + ip.lo[j]] += ip.wlo[j] * v;
            out[at + ip.hi[j]] += ip.whi[j] * v;
        }
    }

    private int fftSize0(int len) {
        return config.grid.fftSize(len);
    }
}
