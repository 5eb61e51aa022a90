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
 * Frequency-domain Toeplitz neural operator, ski-tnn's {@code TnoFD} (jonathanmei/ski-tnn,
 * {@code laxtnn/modules/tno_fd.py}; the FD-TNN of "SKI to go Faster: Accelerating Toeplitz Neural Networks via
 * Asymmetric Kernels"): the relative position encoder ({@link Rpe}, state_dict {@code rpe.*} as in
 * {@link Tno}) gives the frequency response directly, so the kernel costs no FFT. With N and ω_m, m = 0..N/2,
 * from the {@link FrequencyGrid} (upstream's: N = 2^⌈log2(2L)⌉, ω = float32 linspace(0, π, N/2+1)) and
 * r = rpe(ω_m) split per head as upstream's {@code 'f (h d) -> h f d'}:
 * <pre>
 *   causal:         Re[h, c, m] = r[h·dim + c]                          (outdim H·dim)
 *                   S = causalSpectrum(Re): e = irfft(Re, N), h = e[0], 2e[1..N/2], 0 above, S = rfft(h)
 *   bidirectional:  S[h, c, m] = r[h·2dim + c] + i r[h·2dim + dim + c]   (outdim 2·H·dim: each head's block
 *                   holds its dim real parts, then its dim imaginary parts); Im forced to 0 at m = 0 and N/2
 *   y = irfft(S ⊙ rfft(x, N), N)[:L]   per head h and channel c
 * </pre>
 * The causal spectrum completes the real part through the discrete Hilbert transform, so h = irfft(S)
 * vanishes at negative times and y is causal (upstream doubles e[N/2] too; with N >= 2L that tap never
 * reaches an output). Upstream's forward takes a {@code normalize} argument and ignores it; so does this layer.
 *
 * <p>Input x is [B, H, L, dim] as upstream's; as the operator of a {@link Gtu} it takes v [B, L, H·dim].
 * Values are transposed into [B, H·dim, L] rows for the backend's rfft/irfft along L, and back. Spectra and
 * transforms are in x's dtype; the encoder's Linear layers run in x's dtype as upstream's.
 *
 * <p>Hyperparameters for {@link #load}: h, dim, rpe_dim (required), causal (false), residual (false),
 * act ("relu"; ski-tnn's "exp", which subtracts a row maximum, is refused), bias (true), layers (3),
 * norm_type ("simplermsnorm"), fft_size ("upstream", or "fast": see {@link FrequencyGrid}).
 */
public final class FdTno implements Layer, TokenMixer {
    public static final String NAME = "fd-tno";

    /** Hyperparameters; see the class comment. */
    public record Config(int h, int dim, int rpeDim, boolean causal, boolean residual, Activation act, boolean bias, int layers,
                         NormType normType, FrequencyGrid grid) {
        public Config {
            if (h < 1 || dim < 1 || rpeDim < 1 || layers < 0) {
                throw new LongConvException(NAME, "config", "h, dim, rpe_dim >= 1 and layers >= 0",
                        "h=" + h + " dim=" + dim + " rpe_dim=" + rpeDim + " layers=" + layers);
            }
            if (grid == null) throw new LongConvException(NAME, "fft_size", "a frequency grid", "null");
        }

        /** The config on upstream's frequency grid. */
        public Config(int h, int dim, int rpeDim, boolean causal, boolean residual, Activation act, boolean bias, int layers,
                      NormType normType) {
            this(h, dim, rpeDim, causal, residual, act, bias, layers, normType, FrequencyGrid.UPSTREAM);
        }

        /** Upstream's defaults for everything but the sizes. */
        public static Config defaults(int h, int dim, int rpeDim) {
            return new Config(h, dim, rpeDim, false, false, Activation.RELU, true, 3, NormType.SIMPLE_RMS);
        }

        /** The same config on another frequency grid. */
        public Config withGrid(FrequencyGrid g) {
            return new Config(h, dim, rpeDim, causal, residual, act, bias, layers, normType, g);
        }

        Rpe.Config rpe() {
            return new Rpe.Config(rpeDim, (causal ? 1 : 2) * h * dim, residual, act, bias, layers, normType);
        }

        /** From TnoFD's argument names (h, dim, rpe_dim, ...) with upstream's defaults. */
        static Config parse(TnoHyperparameters p) {
            return new Config(p.integer("h"), p.integer("dim"), p.integer("rpe_dim"), p.flag("causal", false), p.flag("residual", false),
                    p.skiTnnActivation("act", "relu"), p.flag("bias", true), p.integer("layers", 3), p.norm("norm_type", "simplermsnorm"),
                    FrequencyGrid.parse(p.string("fft_size", "upstream"), NAME));
        }
    }

    private final Config config;
    private final Map<String, Tensor> params;
    private final Rpe rpe;

    /** A layer from its config and state_dict (tensors kept, not copied). */
    public FdTno(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    /** The operator of a larger module whose parameters are named {@code prefix} + these names ("toep." in Gtu). */
    FdTno(Config config, String prefix, Map<String, Tensor> stateDict) {
        this.config = config;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config, prefix).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.rpe = new Rpe(NAME, config.rpe(), prefix + "rpe.", p);
        this.params = Collections.unmodifiableMap(p);
    }

    /** A layer from weights; hyperparameters from the metadata, overridden by {@code overrides}. */
    public static FdTno load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides));
        return new FdTno(c, Tno.fetch(w, shapes(c)));
    }

    public static Map<String, long[]> shapes(Config c) {
        return shapes(c, "");
    }

    /** state_dict names and shapes under {@code prefix}, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c, String prefix) {
        return Rpe.shapes(c.rpe(), prefix + "rpe.");
    }

    public Config config() {
        return config;
    }

    /** The FFT size at length L on this layer's grid. */
    public int fftSize(int len) {
        return config.grid.fftSize(len);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Tensor> parameters() {
        return params;
    }

    /** S as [H·dim, bins, 2] interleaved (re, im) per channel, and the encoder pass. */
    private record Spectrum(double[] s, Rpe.Pass pass) {}

    /** Where channel q = h·dim + c finds its real part in a row of the encoder's output (its imaginary part is dim further, bidirectional). */
    private int realColumn(int q) {
        return config.causal ? q : q + (q / config.dim) * config.dim;
    }

    private Spectrum spectrum(Backend be, int n, DType dt, boolean forBackward) {
        int bins = n / 2 + 1, ch = config.h * config.dim, out = config.rpe().outdim();
        Rpe.Pass pass = rpe.forward(be, dt, config.grid.frequencies(n), forBackward);
        double[] r = pass.output(), s;
        if (config.causal) {
            double[] re = new double[ch * bins];
            for (int m = 0; m < bins; m++) for (int q = 0; q < ch; q++) re[q * bins + m] = r[m * out + q];
            try (Tensor ret = TnoTensors.write(re, dt, ch, bins); Tensor st = be.causalSpectrum(ret, n)) {
                s = TnoTensors.read(st);
            }
        } else {
            s = new double[ch * bins * 2];
            for (int m = 0; m < bins; m++) {
                boolean real = m == 0 || m == bins - 1;
                for (int q = 0; q < ch; q++) {
                    int col = realColumn(q);
                    s[(q * bins + m) * 2] = r[m * out + col];
                    s[(q * bins + m) * 2 + 1] = real ? 0 : r[m * out + col + config.dim];
                }
            }
        }
        return new Spectrum(s, pass);
    }

    // ---------------------------------------------------------------- layer API on [B, H, L, dim]

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = checkInput(x, "x");
        int b = s[0], h = s[1], len = s[2], d = s[3];
        try (Tensor v = TnoTensors.write(TnoTensors.headsToTokens(TnoTensors.read(x), b, h, len, d), x.dtype(), b, len, (long) h * d);
             Tensor y = mix(backend, v)) {
            return TnoTensors.write(TnoTensors.tokensToHeads(TnoTensors.read(y), b, h, len, d), x.dtype(), x.shape());
        }
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int[] s = checkInput(x, "x");
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

    private int[] checkInput(Tensor x, String arg) {
        if (x == null || x.rank() != 4 || x.dim(1) != config.h || x.dim(3) != config.dim || x.dim(2) < 1 || x.dim(0) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[B, H=" + config.h + ", L>=1, dim=" + config.dim + "] float32 or float64",
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), config.h, Math.toIntExact(x.dim(2)), config.dim};
    }

    // ---------------------------------------------------------------- the operator on [B, L, H·dim] BLD

    @Override
    public Tensor mix(Backend backend, Tensor v) {
        int[] s = FrequencyConv.checkTokens(NAME, v, "v", config.h * config.dim);
        int n = fftSize(s[1]);
        Spectrum sp = spectrum(backend, n, v.dtype(), false);
        return FrequencyConv.apply(backend, v, sp.s(), n);
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
        double[] sp = spectrum(backend, n, dtype, false).s();
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
        double[] sp = spectrum(backend, n, dtype, false).s();
        try (Tensor k = FrequencyConv.causalKernel(backend, sp, n, config.h * config.dim, maxLength, dtype)) {
            return StreamMix.of(backend.causalStream(k, batch, Layout.BLD));
        }
    }

    @Override
    public TokenMixer.MixGrads mixBackward(Backend backend, Tensor v, Tensor gy) {
        int[] s = FrequencyConv.checkTokens(NAME, v, "v", config.h * config.dim);
        FrequencyConv.checkLike(NAME, v, gy);
        int n = fftSize(s[1]), bins = n / 2 + 1, ch = config.h * config.dim, out = config.rpe().outdim();
        DType dt = v.dtype();
        Spectrum sp = spectrum(backend, n, dt, true);
        FrequencyConv.Backward fb = FrequencyConv.backward(backend, v, gy, sp.s(), n);
        try {
            double[] gs = fb.spectrumGradient(), gr = new double[bins * out];
            if (config.causal) {
                double[] gre = FrequencyConv.causalSpectrumAdjoint(backend, gs, n, dt);
                for (int m = 0; m < bins; m++) for (int q = 0; q < ch; q++) gr[m * out + q] = gre[q * bins + m];
            } else {
                for (int m = 0; m < bins; m++) {
                    boolean real = m == 0 || m == bins - 1;
                    for (int q = 0; q < ch; q++) {
                        int col = realColumn(q);
                        gr[m * out + col] = gs[(q * bins + m) * 2];
                        gr[m * out + col + config.dim] = real ? 0 : gs[(q * bins + m) * 2 + 1];
                    }
                }
            }
            return new TokenMixer.MixGrads(fb.dv(), rpe.backward(backend, dt, sp.pass(), gr));
        } catch (RuntimeException | Error e) {
            fb.dv().close();
            throw e;
        }
    }

    private int fftSize0(int len) {
        return fftSize(len);
    }
}
