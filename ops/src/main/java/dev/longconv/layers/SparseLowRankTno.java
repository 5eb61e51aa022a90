package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What ski-tnn's two SKI operators share (its {@code Sltno}, "sparse plus low-rank TNO"), on v [B, L, H·dim]
 * (BLD), with conv_kernel the learned short kernel and r inducing points:
 * <pre>
 *   bidirectional:  y = short-conv(v; conv_kernel [H·dim, nk], same) + W (T (Wᵀ v))
 *                   W [L, r]: two entries per row, T [r, r] Toeplitz with T[i, j] = kr(i - j) per channel
 *   causal:         y = causal-conv(v; a), a[j] = k(j) for j = 0..L-1, plus conv_kernel [H·dim, nk/2 + 1] on lags 0..nk/2
 * </pre>
 * The subclasses define W, kr and k. nk is made odd as upstream does (an even nk becomes nk + 1). Where L is
 * shorter than the causal conv_kernel (upstream fails there: it adds a [.., nk/2+1] block to an [.., L] one), the
 * kernel's first L taps are used.
 *
 * <p>{@code normalize} (upstream's forward argument) is refused: upstream's {@code compute} of the ones sequence
 * [B, L, 1] adds an [B, L, H·dim] result into a [B, L, 1] buffer, which fails for every H·dim > 1.
 *
 * <p>Positions and weights that upstream computes in float32 (torch's default dtype) are float32 here too, in
 * either dtype; values derived from the module's tensors (the gamma buffer, SKITno's inducing buffer, the
 * weights) are in the input's dtype. Upstream cannot run the bidirectional forms in float64 (a float32 container
 * receives float64 values); there this layer keeps the same float32 positions and computes the rest in float64.
 * Where upstream rounds in float32, so does the float32 path here: the searchsorted interpolation weights jump
 * at the inducing points, so those comparisons must see upstream's exact values.
 */
abstract sealed class SparseLowRankTno implements Layer, TokenMixer permits SkiTnoRpe, SkiTnoInvTime {
    /** The sizes both operators share. nk is the odd width upstream uses. */
    record Shape(int h, int dim, int r, int nk, boolean causal) {
        Shape {
            if (h < 1 || dim < 1 || r < 2 || nk < 1 || nk % 2 == 0) {
                throw new LongConvException("ski-tno", "config", "h, dim >= 1, r >= 2, nk odd >= 1", "h=" + h + " dim=" + dim + " r=" + r + " nk=" + nk);
            }
        }

        /** Upstream's width: an even nk becomes nk + 1. */
        static int oddWidth(int nk) {
            return nk % 2 == 0 ? nk + 1 : nk;
        }

        int channels() {
            return h * dim;
        }

        int half() {
            return nk / 2;
        }

        /** Columns of conv_kernel: nk/2 + 1 (lags 0..nk/2) causal, nk ("same" taps) bidirectional. */
        int kernelWidth() {
            return causal ? half() + 1 : nk;
        }
    }

    /**
     * The low-rank interpolation matrix W [L, r]: row t has {@code a[t]} in column {@code col[t]} and {@code b[t]}
     * in column {@code col[t] + 1}.
     */
    record LowRankW(int[] col, double[] a, double[] b) {}

    /** A kernel over some lags as [lags, H·dim] rows, and whatever its backward pass needs. */
    record KernelPass(double[] kernel, Object context) {}

    final String op;
    final Shape shape;
    final String prefix;
    final Map<String, Tensor> params;
    final double gammaValue;

    /**
     * @param learned names and shapes of the learned parameters (conv_kernel first) under {@code prefix}
     * @param gamma   the gamma buffer's value (its float32 value when the buffer is missing from the weights)
     */
    SparseLowRankTno(String op, Shape shape, String prefix, Map<String, long[]> learned, Map<String, Tensor> stateDict, double gamma) {
        this.op = op;
        this.shape = shape;
        this.prefix = prefix;
        Map<String, Tensor> p = new LinkedHashMap<>();
        learned.forEach((n, s) -> p.put(n, TnoTensors.require(op, stateDict, n, s)));
        this.params = Collections.unmodifiableMap(p);
        if (!(gamma > 0)) throw new LongConvException(op, "gamma", "> 0", String.valueOf(gamma));
        this.gammaValue = gamma;
    }

    /** The gamma buffer's value: {@code prefix + "gamma"} [1] when present, else {@code fallback} rounded as torch.Tensor([gamma]) stores it. */
    static double gamma(Map<String, Tensor> stateDict, String prefix, double fallback) {
        Tensor g = stateDict.get(prefix + "gamma");
        if (g == null) return (float) fallback;
        if (g.numel() != 1) throw new LongConvException("ski-tno", prefix + "gamma", "one value (shape [1])", Arrays.toString(g.shape()));
        return g.getFlat(0);
    }

    @Override
    public Map<String, Tensor> parameters() {
        return params;
    }

    @Override
    public String name() {
        return op;
    }

    double[] value(String relativeName) {
        return TnoTensors.read(params.get(prefix + relativeName));
    }

    /** v rounded to the dtype: float32 arithmetic step by step where upstream computes in float32. */
    static double round(DType dt, double v) {
        return dt == DType.FLOAT32 ? (float) v : v;
    }

    /** base^e in dtype dt (torch's pow on tensors of that dtype). */
    static double pow(DType dt, double base, double e) {
        return dt == DType.FLOAT32 ? (float) Math.pow((float) base, (float) e) : Math.pow(base, e);
    }

    /** torch.searchsorted(sorted, v) (side left: the first k with sorted[k] >= v), clamped to [0, r-2] as upstream. */
    static int searchsortedClamped(double[] sorted, double v) {
        int k = 0;
        while (k < sorted.length && sorted[k] < v) k++;
        return Math.max(0, Math.min(k, sorted.length - 2));
    }

    /**
     * torch's {@code interpolate(p [r], (n,), mode="linear", align_corners=True)}: output j reads index i0 and i1 at
     * src = j (r-1)/(n-1) with weights 1 - λ and λ; computed in dtype dt. Returns {i0, i1} per j and λ.
     */
    static int[][] alignedCornersIndex(int r, int n, DType dt, double[] lambdaOut) {
        double scale = n > 1 ? round(dt, (double) (r - 1) / (n - 1)) : 0;
        int[][] idx = new int[n][2];
        for (int j = 0; j < n; j++) {
            double src = round(dt, scale * j);
            int i0 = (int) src;
            idx[j][0] = i0;
            idx[j][1] = i0 < r - 1 ? i0 + 1 : i0;
            lambdaOut[j] = Math.min(Math.max(round(dt, src - i0), 0), 1);
        }
        return idx;
    }

    // ---------------------------------------------------------------- what the subclasses define

    /** W for length L (bidirectional). */
    abstract LowRankW lowRankW(int len, DType dt);

    /** kr at lags -(r-1)..(r-1) as [2r-1, H·dim] (bidirectional). */
    abstract KernelPass inducingKernel(Backend be, DType dt, int len, boolean forBackward);

    /** Parameter gradients (full names) from dkr [2r-1, H·dim]. */
    abstract Map<String, double[]> inducingKernelBackward(Backend be, DType dt, KernelPass pass, double[] dkr);

    /** k at lags 0..L-1 as [L, H·dim] (causal), without conv_kernel. */
    abstract KernelPass causalKernel(Backend be, DType dt, int len, boolean forBackward);

    /** Parameter gradients (full names, conv_kernel excluded) from da [L, H·dim]. */
    abstract Map<String, double[]> causalKernelBackward(Backend be, DType dt, KernelPass pass, double[] da);

    // ---------------------------------------------------------------- layer API: x [B, L, H·dim] as upstream's

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        return mix(backend, x);
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        TokenMixer.MixGrads g = mixBackward(backend, x, gy);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> p : params.entrySet()) {
                out.put(p.getKey(), TnoTensors.write(g.params().get(p.getKey()), x.dtype(), p.getValue().shape()));
            }
            return new LayerGrads(g.dv(), out);
        } catch (RuntimeException | Error e) {
            g.dv().close();
            out.values().forEach(Tensor::close);
            throw e;
        }
    }

    // ---------------------------------------------------------------- the operator

    /** The causal kernel with conv_kernel added on its first lags: [L, H·dim]. */
    private double[] withConvKernel(double[] k, int len) {
        int ch = shape.channels(), w = shape.kernelWidth();
        double[] ck = value("conv_kernel"), a = k.clone();
        for (int j = 0; j < Math.min(w, len); j++) for (int c = 0; c < ch; c++) a[j * ch + c] += ck[c * w + j];
        return a;
    }

    /** Wᵀ v: [B, r, ch] from v [B, L, ch]. */
    private double[] applyTransposed(LowRankW w, double[] v, int b, int len) {
        int ch = shape.channels(), r = shape.r();
        double[] z = new double[b * r * ch];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < len; t++) {
                int k = w.col()[t], src = (i * len + t) * ch, d0 = (i * r + k) * ch, d1 = d0 + ch;
                double wa = w.a()[t], wb = w.b()[t];
                for (int c = 0; c < ch; c++) {
                    z[d0 + c] += wa * v[src + c];
                    z[d1 + c] += wb * v[src + c];
                }
            }
        }
        return z;
    }

    /** out += W u: u [B, r, ch], out [B, L, ch]. */
    private void applyW(LowRankW w, double[] u, double[] out, int b, int len) {
        int ch = shape.channels(), r = shape.r();
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < len; t++) {
                int k = w.col()[t], dst = (i * len + t) * ch, s0 = (i * r + k) * ch, s1 = s0 + ch;
                double wa = w.a()[t], wb = w.b()[t];
                for (int c = 0; c < ch; c++) out[dst + c] += wa * u[s0 + c] + wb * u[s1 + c];
            }
        }
    }

    private int[] check(Tensor v, String arg) {
        int[] s = FrequencyConv.checkTokens(op, v, arg, shape.channels());
        if (!shape.causal && s[1] < 2) {
            throw new LongConvException(op, arg, "L >= 2 (upstream's low-rank weights divide by L - 1)", "L=" + s[1]);
        }
        return s;
    }

    private Tensor shortKernel(DType dt) {
        int ch = shape.channels(), w = shape.nk();
        double[] ck = value("conv_kernel"), t = new double[w * ch];
        for (int c = 0; c < ch; c++) for (int j = 0; j < w; j++) t[j * ch + c] = ck[c * w + j];
        return TnoTensors.write(t, dt, w, ch);
    }

    @Override
    public Tensor mix(Backend be, Tensor v) {
        int[] s = check(v, "v");
        try (TokenMixer.PreparedMix prepared = prepareMix(be, v.dtype(), s[1])) {
            return prepared.mix(v);
        }
    }

    /**
     * Everything that depends only on the weights and the length, once: causal, the interpolated kernel with
     * conv_kernel added, in a causal plan; bidirectional, the low-rank weights W, the inducing kernel kr in a Toeplitz
     * plan over the r inducing points and the short taps. A call then does Wᵀ v, the plan, the short convolution and
     * W u; {@link #mix} is this prepared form made and run once.
     */
    @Override
    public TokenMixer.PreparedMix prepareMix(Backend be, DType dt, int length) {
        ServingChecks.checkDtype(op, dt);
        ServingChecks.checkLength(op, length);
        int ch = shape.channels(), r = shape.r();
        if (!shape.causal && length < 2) {
            throw new LongConvException(op, "length", "L >= 2 (upstream's low-rank weights divide by L - 1)", "L=" + length);
        }
        if (shape.causal) {
            ConvPlan plan;
            try (Tensor k = TnoTensors.write(withConvKernel(causalKernel(be, dt, length, false).kernel(), length), dt, length, ch)) {
                plan = be.causalConvPlan(k, length, Layout.BLD);
            }
            return new TokenMixer.PreparedMix() {
                @Override
                public Tensor mix(Tensor v) {
                    checkPrepared(v, dt, length);
                    return plan.apply(v);
                }

                @Override
                public void close() {
                    plan.close();
                }
            };
        }
        LowRankW w = lowRankW(length, dt);
        Tensor wk = shortKernel(dt);
        ConvPlan plan;
        try (Tensor kr = TnoTensors.write(inducingKernel(be, dt, length, false).kernel(), dt, 2L * r - 1, ch)) {
            plan = be.toeplitzConvPlan(kr, r, Layout.BLD);
        } catch (RuntimeException | Error e) {
            wk.close();
            throw e;
        }
        return new TokenMixer.PreparedMix() {
            @Override
            public Tensor mix(Tensor v) {
                int b = checkPrepared(v, dt, length);
                double[] z = applyTransposed(w, TnoTensors.read(v), b, length), u, y;
                try (Tensor zt = TnoTensors.write(z, dt, b, r, ch); Tensor ut = plan.apply(zt)) {
                    u = TnoTensors.read(ut);
                }
                try (Tensor ys = be.shortConv(v, wk, null, ShortConvMode.SAME, Layout.BLD)) {
                    y = TnoTensors.read(ys);
                }
                applyW(w, u, y, b, length);
                return TnoTensors.write(y, dt, v.shape());
            }

            @Override
            public void close() {
                plan.close();
                wk.close();
            }
        };
    }

    /** v must be [B, length, H·dim] in the prepared dtype; returns B. */
    private int checkPrepared(Tensor v, DType dt, int length) {
        int[] s = check(v, "v");
        if (v.dtype() != dt || s[1] != length) {
            throw new LongConvException(op, "v", "[B, L=" + length + ", " + shape.channels() + "] " + dt + " (as prepared)", v.dtype() + Arrays.toString(v.shape()));
        }
        return s[0];
    }

    /** The operator prepared for {@code length} ({@link #prepareMix}): x [B, L, H·dim] as upstream's. */
    @Override
    public PreparedLayer prepare(Backend backend, DType dtype, int length) {
        TokenMixer.PreparedMix mixer = prepareMix(backend, dtype, length);
        return new PreparedBase(this, dtype, length) {
            @Override
            void checkInput(Tensor x) {
                checkPrepared(x, dtype, length);
            }

            @Override
            Tensor compute(Tensor x) {
                return mixer.mix(x);
            }

            @Override
            public void close() {
                mixer.close();
            }
        };
    }

    @Override
    public TokenMixer.MixGrads mixBackward(Backend be, Tensor v, Tensor gy) {
        int[] s = check(v, "v");
        FrequencyConv.checkLike(op, v, gy);
        int b = s[0], len = s[1], ch = shape.channels(), wdt = shape.kernelWidth();
        DType dt = v.dtype();
        Map<String, double[]> grads = new LinkedHashMap<>();
        double[] dck = new double[ch * wdt];
        grads.put(prefix + "conv_kernel", dck);
        if (shape.causal) {
            KernelPass pass = causalKernel(be, dt, len, true);
            double[] da;
            Tensor dv;
            try (Tensor k = TnoTensors.write(withConvKernel(pass.kernel(), len), dt, len, ch); Grads g = be.causalConvBackward(v, k, gy, Layout.BLD)) {
                dv = g.dx().copy();
                da = TnoTensors.read(g.dk());
            }
            for (int j = 0; j < Math.min(wdt, len); j++) for (int c = 0; c < ch; c++) dck[c * wdt + j] = da[j * ch + c];
            try {
                grads.putAll(causalKernelBackward(be, dt, pass, da));
            } catch (RuntimeException | Error e) {
                dv.close();
                throw e;
            }
            return new TokenMixer.MixGrads(dv, grads);
        }
        LowRankW w = lowRankW(len, dt);
        KernelPass pass = inducingKernel(be, dt, len, true);
        double[] vs = TnoTensors.read(v), g = TnoTensors.read(gy);
        double[] z = applyTransposed(w, vs, b, len), gu = applyTransposed(w, g, b, len), dz, dkr, dv;
        try (Tensor zt = TnoTensors.write(z, dt, b, shape.r(), ch); Tensor gut = TnoTensors.write(gu, dt, b, shape.r(), ch);
             Tensor kr = TnoTensors.write(pass.kernel(), dt, 2L * shape.r() - 1, ch); Grads tg = be.toeplitzConvBackward(zt, kr, gut, Layout.BLD)) {
            dz = TnoTensors.read(tg.dx());
            dkr = TnoTensors.read(tg.dk());
        }
        try (Tensor wk = shortKernel(dt); Grads sg = be.shortConvBackward(v, wk, null, ShortConvMode.SAME, gy, Layout.BLD)) {
            dv = TnoTensors.read(sg.dx());
            double[] dw = TnoTensors.read(sg.dk());
            for (int j = 0; j < wdt; j++) for (int c = 0; c < ch; c++) dck[c * wdt + j] = dw[j * ch + c];
        }
        applyW(w, dz, dv, b, len);
        grads.putAll(inducingKernelBackward(be, dt, pass, dkr));
        return new TokenMixer.MixGrads(TnoTensors.write(dv, dt, v.shape()), grads);
    }
}
