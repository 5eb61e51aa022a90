package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Toeplitz neural operator, tnn-pytorch's {@code Tno}: per head h and channel c a Toeplitz matrix whose
 * coefficient at lag j comes from the relative position encoder {@link Rpe}:
 * <pre>
 *   a[j] = act_type( γ^|j| · rpe(pos(j))[h·dim + c] ),   y[t] = Σ_s a[t-s] x[s]   (t, s in 0..L-1)
 * </pre>
 * with γ^|j| only when decay is on, pos(j) = j (par_type 1), j/(L-1) (par_type 2) or exp(j/(L-1)) for
 * j > 0 and 1 at j = 0 (par_type 3, causal only), the last two in float32 as upstream computes them.
 * Causal: a[j] = 0 for j &lt; 0 (before and regardless of act_type, as upstream pads with zeros).
 * With {@code normalize}, y is divided by the same product of a ones sequence (upstream's forward
 * argument {@code normalize}).
 *
 * <p>Input x is [B, H, L, dim] as upstream. The products run as one backend call on a [B, L, H·dim]
 * BLD tensor (channel h·dim + c, the order of upstream's 'n (h d)' rearrange): one transposing copy in
 * and one out buy a single kernel transform per channel for all batch rows, where a loop over heads
 * would transform every kernel B times. {@link Gtu} already holds its values in that layout and
 * calls the products directly, with no copies. Bidirectional uses toeplitzConv with the kernel at
 * lags -(L-1)..(L-1); causal uses causalConv with lags 0..L-1. The encoder runs in float64; the
 * kernel is rounded to x's dtype, and everything after it runs in that dtype.
 *
 * <p>Hyperparameters for {@link #load} (Tno's constructor argument names): h, dim, rpe_dim (required),
 * causal (false), use_decay (false), use_multi_decay (false), residual (false), act ("relu"),
 * par_type (1), gamma (0.999), bias (true), act_type ("none"), layers (3), norm_type ("simplermsnorm"),
 * normalize (false). Decay: use_decay uses the stored {@code gamma} [h, 1, dim] as γ (upstream keeps it
 * frozen; a gradient is still returned); use_multi_decay alone uses γ = λ + (1-λ) sigmoid(gamma) with
 * λ = the gamma hyperparameter; with both set, use_decay wins, as upstream.
 *
 * <p>state_dict: {@code gamma} (with decay), then {@code rpe.*} (see {@link Rpe}, outdim = h·dim).
 */
public final class Tno implements Layer, TokenMixer {
    public static final String NAME = "tno";

    /** Hyperparameters; see the class comment. */
    public record Config(int h, int dim, int rpeDim, boolean causal, boolean useDecay, boolean useMultiDecay, boolean residual,
                         Activation act, int parType, double gamma, boolean bias, Activation actType, int layers,
                         NormType normType, boolean normalize) {
        public Config {
            if (h < 1 || dim < 1 || rpeDim < 1 || layers < 0) {
                throw new LongConvException(NAME, "config", "h, dim, rpe_dim >= 1 and layers >= 0",
                        "h=" + h + " dim=" + dim + " rpe_dim=" + rpeDim + " layers=" + layers);
            }
            if (parType < 1 || parType > 3) throw new LongConvException(NAME, "par_type", "1, 2 or 3", String.valueOf(parType));
            if (parType == 3 && !causal) {
                throw new LongConvException(NAME, "par_type", "1 or 2 when bidirectional (upstream defines no negative positions for 3)", "3");
            }
        }

        /** Upstream's defaults for everything but the sizes. */
        public static Config defaults(int h, int dim, int rpeDim) {
            return new Config(h, dim, rpeDim, false, false, false, false, Activation.RELU, 1, 0.999, true, Activation.NONE, 3,
                    NormType.SIMPLE_RMS, false);
        }

        boolean hasDecay() {
            return useDecay || useMultiDecay;
        }

        Rpe.Config rpe() {
            return new Rpe.Config(rpeDim, h * dim, residual, act, bias, layers, normType);
        }

        /** The config from string hyperparameters (upstream argument names) with upstream's defaults. */
        static Config parse(TnoHyperparameters p, double defaultGamma) {
            return new Config(p.integer("h"), p.integer("dim"), p.integer("rpe_dim"), p.flag("causal", false),
                    p.flag("use_decay", false), p.flag("use_multi_decay", false), p.flag("residual", false),
                    p.activation("act", "relu"), p.integer("par_type", 1), p.real("gamma", defaultGamma), p.flag("bias", true),
                    p.activation("act_type", "none"), p.integer("layers", 3), p.norm("norm_type", "simplermsnorm"),
                    p.flag("normalize", false));
        }
    }

    private final Config config;
    private final String prefix;
    private final Map<String, Tensor> params;
    private final Rpe rpe;

    /** A TNO from its config and its state_dict (tensors kept, not copied; float32 or float64). */
    public Tno(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    /** The TNO of a larger module whose parameters are named {@code prefix} + Tno's names ("toep." in Gtu). */
    Tno(Config config, String prefix, Map<String, Tensor> stateDict) {
        this.config = config;
        this.prefix = prefix;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config, prefix).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.rpe = new Rpe(NAME, config.rpe(), prefix + "rpe.", p);
        this.params = Collections.unmodifiableMap(p);
    }

    /** A TNO from weights; hyperparameters from the metadata, overridden by {@code overrides}. */
    public static Tno load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides), 0.999);
        return new Tno(c, fetch(w, shapes(c, "")));
    }

    static Map<String, Tensor> fetch(Weights w, Map<String, long[]> shapes) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        shapes.forEach((n, s) -> m.put(n, w.get(NAME, n, s)));
        return m;
    }

    /** state_dict names and shapes of a TNO with this config, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c, String prefix) {
        Map<String, long[]> s = new LinkedHashMap<>();
        if (c.hasDecay()) s.put(prefix + "gamma", new long[] {c.h, 1, c.dim});
        s.putAll(Rpe.shapes(c.rpe(), prefix + "rpe."));
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

    // ---------------------------------------------------------------- layer API on [B, H, L, dim]

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = checkInput(x, "x");
        return HeadsServing.throughTokens(x, s[1], s[3], x.dtype(), v -> mix(backend, v),
                float32Kernel(x.dtype()) ? v -> mixInto(backend, v, v) : null);
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
            return new LayerGrads(dx, gradientTensors(g.params(), x.dtype()));
        }
    }

    /** Parameter gradients (C-order arrays by name) as tensors shaped like the parameters, in {@code dtype}. */
    Map<String, Tensor> gradientTensors(Map<String, double[]> grads, DType dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            out.put(e.getKey(), TnoTensors.write(grads.get(e.getKey()), dtype, e.getValue().shape()));
        }
        return out;
    }

    private int[] checkInput(Tensor x, String arg) {
        String expected = "[B, H=" + config.h + ", L>=1, dim=" + config.dim + "] float32 or float64";
        if (x == null || x.rank() != 4 || x.dim(1) != config.h || x.dim(3) != config.dim || x.dim(2) < 1 || x.dim(0) < 1) {
            throw new LongConvException(NAME, arg, expected, x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), config.h, Math.toIntExact(x.dim(2)), config.dim};
    }

    /** The kernel of {@code length} in a plan (see {@link #prepareMix}), with forward's layout changes around it. */
    @Override
    public PreparedLayer prepare(Backend backend, DType dtype, int length) {
        return HeadsServing.prepare(this, this, config.h, config.dim, backend, dtype, length);
    }

    /** A causal TNO step by step over x blocks [B, H, C, dim] (steps [B, H, dim]): see {@link #mixSession}. */
    @Override
    public LayerSession session(Backend backend, DType dtype, int batch, int maxLength) {
        return HeadsServing.session(this, this, config.h, config.dim, backend, dtype, batch, maxLength);
    }

    // ---------------------------------------------------------------- the operator on [B, L, H·dim] BLD

    /** The coefficients at every lag, and what the backward pass needs of them. Arrays are [M, H·dim]. */
    private record Coefficients(int length, Rpe.Pass rpe, double[] decay, double[] preAct, double[] kernel) {}

    /** Number of lags the kernel holds: 2L-1 (lags -(L-1)..(L-1)) bidirectional, L (lags 0..L-1) causal. */
    private int lags(int len) {
        return config.causal ? len : 2 * len - 1;
    }

    /** The lag stored at kernel row {@code i}. */
    private int lagOf(int i, int len) {
        return config.causal ? i : i - (len - 1);
    }

    /** The encoder's input for lag j at length L, as upstream computes it (float32 for par_type 2 and 3). */
    private double position(int j, int len) {
        return switch (config.parType) {
            case 1 -> j;
            case 2 -> j == 0 ? 0 : (double) ((float) j / (float) (len - 1));
            default -> j == 0 ? 1 : (double) (float) Math.exp((float) j / (float) (len - 1));
        };
    }

    /** γ per channel as used in the decay, [H·dim]. */
    private double[] effectiveGamma(double[] raw) {
        if (config.useDecay) return raw;
        double lambda = config.gamma;
        double[] g = new double[raw.length];
        for (int i = 0; i < g.length; i++) g[i] = lambda + (1 - lambda) * Activation.sigmoid(raw[i]);
        return g;
    }

    private Coefficients coefficients(Backend be, DType dt, int len, boolean forBackward) {
        int m = lags(len), ch = config.h * config.dim;
        double[] pos = new double[m];
        for (int i = 0; i < m; i++) pos[i] = position(lagOf(i, len), len);
        Rpe.Pass pass = rpe.forward(be, dt, pos, forBackward);
        double[] r = pass.output();
        double[] gamma = config.hasDecay() ? effectiveGamma(TnoTensors.read(params.get(prefix + "gamma"))) : null;
        double[] pre = new double[m * ch], k = new double[m * ch];
        for (int i = 0; i < m; i++) {
            int lag = Math.abs(lagOf(i, len));
            for (int c = 0; c < ch; c++) {
                double v = r[i * ch + c];
                if (gamma != null && lag != 0) v *= Math.pow(gamma[c], lag);
                pre[i * ch + c] = v;
                k[i * ch + c] = config.actType.apply(v);
            }
        }
        return new Coefficients(len, pass, gamma, pre, k);
    }

    /**
     * The kernel [M, H·dim] of a float32 forward, in float32 from end to end, in {@code arena}: the encoder's float32
     * form ({@link Rpe#forwardFloat32}), the decay γ^|lag| (powers built up lag by lag in float64, so no pow per
     * value) and act_type on float lanes. The float64 form ({@link #coefficients}) stays for float64, normalize, the
     * backward pass and sessions.
     */
    private Tensor kernelFloat32(Backend be, Arena arena, int len) {
        int m = lags(len), ch = config.h * config.dim;
        Tensor k = rpe.forwardFloat32(be, arena, positions(len));
        MemorySegment ks = k.segment();
        if (config.hasDecay()) {
            double[] gamma = effectiveGamma(TnoTensors.read(params.get(prefix + "gamma"))), power = new double[ch];
            Arrays.fill(power, 1);
            for (int lag = 1; lag < len; lag++) {
                for (int c = 0; c < ch; c++) power[c] *= gamma[c];
                scaleRow(ks, rowOfLag(lag, len), ch, power);
                if (!config.causal) scaleRow(ks, rowOfLag(-lag, len), ch, power);
            }
        }
        if (config.actType != Activation.NONE) {
            FloatRows.biasActivation(config.actType, m, ch, ks, 0, ch, null, null, 0, 0, ks, 0, ch);
        }
        return k;
    }

    /** The encoder's inputs at one length, read only: made once per length, not per call (16 KB at L = 1024). */
    private record Positions(int length, double[] values) {}

    /** The positions of the length last asked for ({@link #positions}); a new length replaces them. */
    private volatile Positions lastPositions;

    /** The encoder's input for each kernel row at length len, shared by calls at that length: the caller must not write it. */
    private double[] positions(int len) {
        Positions p = lastPositions;
        if (p == null || p.length() != len) {
            double[] v = new double[lags(len)];
            for (int i = 0; i < v.length; i++) v[i] = position(lagOf(i, len), len);
            lastPositions = p = new Positions(len, v);
        }
        return p.values();
    }

    /** Whether a pass in {@code dtype} takes the float32 kernel ({@link #kernelFloat32}): float32 without normalize. */
    private boolean float32Kernel(DType dtype) {
        return dtype == DType.FLOAT32 && !config.normalize;
    }

    /** The kernel row holding lag {@code lag} (the inverse of {@link #lagOf}). */
    private int rowOfLag(int lag, int len) {
        return config.causal ? lag : lag + (len - 1);
    }

    private static void scaleRow(MemorySegment k, int row, int ch, double[] by) {
        for (int c = 0; c < ch; c++) {
            long at = (long) row * ch + c;
            k.setAtIndex(ValueLayout.JAVA_FLOAT, at, (float) (k.getAtIndex(ValueLayout.JAVA_FLOAT, at) * by[c]));
        }
    }

    /** The kernel as the backend's per-channel kernel tensor in BLD: [M, H·dim]. */
    private Tensor kernelTensor(Coefficients c, DType dtype) {
        return TnoTensors.write(c.kernel(), dtype, lags(c.length()), (long) config.h * config.dim);
    }

    private Tensor conv(Backend be, Tensor v, Tensor k) {
        return config.causal ? be.causalConv(v, k, Layout.BLD) : be.toeplitzConv(v, k, Layout.BLD);
    }

    /** den[t, c] = Σ_s a[t-s, c], the product with a ones sequence, [L, H·dim]. */
    private double[] onesResponse(Coefficients c) {
        int len = c.length(), m = lags(len), ch = config.h * config.dim;
        double[] prefixSum = new double[(m + 1) * ch];
        for (int i = 0; i < m; i++) for (int q = 0; q < ch; q++) prefixSum[(i + 1) * ch + q] = prefixSum[i * ch + q] + c.kernel()[i * ch + q];
        double[] den = new double[len * ch];
        for (int t = 0; t < len; t++) {
            // rows of lags t-(L-1)..t: t..t+L-1 bidirectional; 0..t causal.
            int lo = config.causal ? 0 : t, hi = config.causal ? t + 1 : t + len;
            for (int q = 0; q < ch; q++) den[t * ch + q] = prefixSum[hi * ch + q] - prefixSum[lo * ch + q];
        }
        return den;
    }

    /** Whether a float32 call writes its result into a given output ({@link #mixInto}): without normalize. */
    boolean writesFloat32Into() {
        return float32Kernel(DType.FLOAT32);
    }

    /**
     * y = T v for float32 v [B, L, H·dim] BLD without normalize ({@link #writesFloat32Into}), y of v's shape (v itself or
     * apart from it), the kernel in the calling thread's scratch.
     */
    void mixInto(Backend be, Tensor v, Tensor y) {
        if (!float32Kernel(v.dtype())) throw new IllegalStateException(NAME + ": mixInto takes float32 without normalize, got " + v.dtype());
        try (Arena scratch = ScratchArena.open()) {
            Tensor k = kernelFloat32(be, scratch, checkTokens(v, "v"));
            if (config.causal) be.causalConvInto(v, k, Layout.BLD, y);
            else be.toeplitzConvInto(v, k, Layout.BLD, y);
        }
    }

    /** y = T v (divided by T 1 when normalize) for v [B, L, H·dim] BLD; a new tensor of v's dtype. */
    @Override
    public Tensor mix(Backend be, Tensor v) {
        int len = checkTokens(v, "v");
        if (float32Kernel(v.dtype())) {
            try (Arena arena = ScratchArena.open()) { // the kernel lives for this call only: the thread's scratch
                return conv(be, v, kernelFloat32(be, arena, len));
            }
        }
        Coefficients c = coefficients(be, v.dtype(), len, false);
        Tensor y;
        try (Tensor k = kernelTensor(c, v.dtype())) {
            y = conv(be, v, k);
        }
        if (config.normalize) {
            try {
                double[] z = TnoTensors.read(y), den = onesResponse(c);
                for (int i = 0; i < z.length; i++) z[i] /= den[i % den.length];
                TnoTensors.store(y, z);
            } catch (RuntimeException | Error e) {
                y.close();
                throw e;
            }
        }
        return y;
    }

    /** The kernel at length {@code length} in a plan, and the normalization's denominators: computed once. */
    @Override
    public TokenMixer.PreparedMix prepareMix(Backend be, DType dt, int length) {
        double[] den = null;
        Tensor k;
        if (float32Kernel(dt)) { // the kernel forward computes, bit for bit
            try (Arena arena = Arena.ofShared()) {
                k = kernelFloat32(be, arena, length).copy();
            }
        } else {
            Coefficients c = coefficients(be, dt, length, false);
            den = config.normalize ? onesResponse(c) : null;
            k = kernelTensor(c, dt);
        }
        double[] denominators = den;
        ConvPlan plan;
        try {
            plan = config.causal ? be.causalConvPlan(k, length, Layout.BLD) : be.toeplitzConvPlan(k, length, Layout.BLD);
        } catch (RuntimeException | Error e) {
            k.close();
            throw e;
        }
        return new TokenMixer.PreparedMix() {
            @Override
            public Tensor mix(Tensor v) {
                Tensor y = Tensor.zeros(v.dtype(), v.shape());
                try {
                    mixInto(v, y);
                    return y;
                } catch (RuntimeException | Error e) {
                    y.close();
                    throw e;
                }
            }

            @Override
            public void mixInto(Tensor v, Tensor out) {
                int len = checkTokens(v, "v");
                if (len != length) throw new LongConvException(NAME, "v", "L=" + length + " (as prepared)", "L=" + len);
                plan.applyInto(v, out);
                if (denominators != null) divideInPlace(out, denominators, 0, denominators.length);
            }

            @Override
            public void close() {
                plan.close();
                k.close();
            }
        };
    }

    /** y[b, t, c] /= den[(start + t) * ch + c] for a block of y [B, C, ch], den holding {@code denLength} values. */
    private void divide(Tensor y, double[] den, long start, int denLength) {
        try {
            divideInPlace(y, den, start, denLength);
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** {@link #divide} for a y the caller owns (left open on failure). */
    private void divideInPlace(Tensor y, double[] den, long start, int denLength) {
        int ch = config.h * config.dim, c = Math.toIntExact(y.dim(1));
        double[] z = TnoTensors.read(y);
        for (int i = 0; i < z.length; i++) {
            int t = (i / ch) % c, q = i % ch;
            z[i] /= den[(int) ((start + t) * ch + q) % denLength];
        }
        TnoTensors.store(y, z);
    }

    /** A causal stream of the kernel of length maxLength; with normalize, outputs divided by the kernel's prefix sums. */
    @Override
    public TokenMixer.MixSession mixSession(Backend be, DType dt, int batch, int maxLength) {
        if (!config.causal) throw new LongConvException(NAME, "session", "a causal TNO (a bidirectional one reads future steps)", "causal=false");
        Coefficients c = coefficients(be, dt, maxLength, false);
        double[] den = config.normalize ? onesResponse(c) : null;
        try (Tensor k = kernelTensor(c, dt)) {
            return new TnoMixerSession(be.causalStream(k, batch, Layout.BLD), den, 0);
        }
    }

    /** The stream and where the sequence is, for the normalization. */
    private final class TnoMixerSession implements TokenMixer.MixSession {
        private final CausalStream stream;
        private final double[] den;

        TnoMixerSession(CausalStream stream, double[] den, long unused) {
            this.stream = stream;
            this.den = den;
        }

        @Override
        public Tensor push(Tensor v) {
            long start = stream.position();
            Tensor y = stream.push(v);
            if (den != null) divide(y, den, start, den.length);
            return y;
        }

        @Override
        public void reset() {
            stream.reset();
        }

        @Override
        public TokenMixer.MixSession copy() {
            return new TnoMixerSession(stream.copy(), den, 0);
        }

        @Override
        public void close() {
            stream.close();
        }
    }

    @Override
    public TokenMixer.MixGrads mixBackward(Backend be, Tensor v, Tensor gy) {
        int len = checkTokens(v, "v");
        if (!Arrays.equals(gy.shape(), v.shape()) || gy.dtype() != v.dtype()) {
            throw new LongConvException(NAME, "gy", v.dtype() + Arrays.toString(v.shape()) + " (as v)", gy.dtype() + Arrays.toString(gy.shape()));
        }
        int m = lags(len), ch = config.h * config.dim;
        Coefficients c = coefficients(be, v.dtype(), len, true);
        double[] da;
        Tensor dv;
        try (Tensor k = kernelTensor(c, v.dtype())) {
            double[] gden = null;
            Tensor gz = gy;
            try {
                if (config.normalize) {
                    double[] den = onesResponse(c), g = TnoTensors.read(gy), z;
                    try (Tensor zt = conv(be, v, k)) {
                        z = TnoTensors.read(zt);
                    }
                    // y = z / den: gz = gy / den, gden = -Σ_b gy z / den².
                    gden = new double[den.length];
                    for (int i = 0; i < g.length; i++) {
                        int q = i % den.length;
                        gden[q] -= g[i] * z[i] / (den[q] * den[q]);
                        g[i] /= den[q];
                    }
                    gz = TnoTensors.write(g, v.dtype(), v.shape());
                }
                Grads g = config.causal ? be.causalConvBackward(v, k, gz, Layout.BLD) : be.toeplitzConvBackward(v, k, gz, Layout.BLD);
                dv = g.dx();
                try (Tensor dk = g.dk()) {
                    da = TnoTensors.read(dk);
                }
            } finally {
                if (gz != gy) gz.close();
            }
            if (gden != null) addOnesResponseGradient(da, gden, len);
        }
        Map<String, double[]> grads = new LinkedHashMap<>();
        double[] gr = new double[m * ch];
        double[] gGamma = c.decay() == null ? null : new double[ch];
        for (int i = 0; i < m; i++) {
            int lag = Math.abs(lagOf(i, len));
            for (int q = 0; q < ch; q++) {
                int at = i * ch + q;
                double gp = da[at] * config.actType.derivative(c.preAct()[at]);
                if (gGamma != null && lag != 0) {
                    double gam = c.decay()[q], r = c.rpe().output()[at];
                    gr[at] = gp * Math.pow(gam, lag);
                    gGamma[q] += gp * r * lag * Math.pow(gam, lag - 1);
                } else {
                    gr[at] = gp;
                }
            }
        }
        try {
            if (gGamma != null) {
                if (!config.useDecay) { // γ = λ + (1-λ) σ(g)
                    double[] raw = TnoTensors.read(params.get(prefix + "gamma"));
                    for (int q = 0; q < ch; q++) {
                        double s = Activation.sigmoid(raw[q]);
                        gGamma[q] *= (1 - config.gamma) * s * (1 - s);
                    }
                }
                grads.put(prefix + "gamma", gGamma);
            }
            grads.putAll(rpe.backward(be, v.dtype(), c.rpe(), gr));
        } catch (RuntimeException | Error e) {
            dv.close();
            throw e;
        }
        return new TokenMixer.MixGrads(dv, grads);
    }

    /** da[lag] += Σ gden[t] over the t whose ones-response sums lag: max(0, lag) <= t <= min(L-1, lag+L-1). */
    private void addOnesResponseGradient(double[] da, double[] gden, int len) {
        int ch = config.h * config.dim, m = lags(len);
        double[] suffix = new double[(len + 1) * ch]; // prefix sums of gden over t
        for (int t = 0; t < len; t++) for (int q = 0; q < ch; q++) suffix[(t + 1) * ch + q] = suffix[t * ch + q] + gden[t * ch + q];
        for (int i = 0; i < m; i++) {
            int lag = lagOf(i, len), lo = Math.max(0, lag), hi = Math.min(len - 1, lag + len - 1);
            for (int q = 0; q < ch; q++) da[i * ch + q] += suffix[(hi + 1) * ch + q] - suffix[lo * ch + q];
        }
    }

    /** Validates v [B, L, H·dim]; returns L. */
    private int checkTokens(Tensor v, String arg) {
        long ch = (long) config.h * config.dim;
        if (v == null || v.rank() != 3 || v.dim(2) != ch || v.dim(1) < 1 || v.dim(0) < 1) {
            throw new LongConvException(NAME, arg, "[B, L>=1, H*dim=" + ch + "]", v == null ? "null" : Arrays.toString(v.shape()));
        }
        if (v.dtype() != DType.FLOAT32 && v.dtype() != DType.FLOAT64) throw new LongConvException(NAME, arg, "float32 or float64", v.dtype().toString());
        return Math.toIntExact(v.dim(1));
    }
}
