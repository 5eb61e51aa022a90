package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Grads;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static dev.longconv.layers.LayerMath.addInto;
import static dev.longconv.layers.LayerMath.cast;
import static dev.longconv.layers.LayerMath.matmul;

/**
 * The Spectral Transform Unit with flash-stu semantics, on x [B, L, D_in] (BLD), sgn[t] = (-1)^t and
 * conv = causal-conv along L per channel with the spectral filters phi [L_phi, K] (see {@link StuFilters}):
 * <ul>
 *   <li>approx: x~ = x M_inputs, phi~ = phi M_filters; y = conv(x~, phi~) + sgn * conv(sgn * x~, phi~).
 *   <li>exact: y[t,o] = sum_{k,i} conv(x_i, phi_k)[t] M_phi_plus[k,i,o] + sgn[t] conv(sgn x_i, phi_k)[t] M_phi_minus[k,i,o].
 *   <li>With the {@code hankel-l} filters only the first (plus) term is kept, in both modes, as flash-stu does.
 *   <li>Optional autoregressive terms: y_t += sum_{i&lt;k_u} M_u[i] x_{t-i} + sum_{j=1..k_y} M_y[j-1] y_{t-j}.
 * </ul>
 * Because sgn[t] sgn[t-s] = sgn[s], the minus branch is conv(x, sgn * phi): approx mode is one convolution
 * with the kernel (1 + sgn) * phi~ (even taps doubled, odd taps zero), and exact mode is 2K convolutions of x
 * each followed by one projection through the backend's gemm.
 *
 * <p>Weights (state_dict names of flash-stu's STU, plus ours): {@code M_inputs [D_in, D_out]},
 * {@code M_filters [K, D_in]} (approx; D_in = D_out); {@code M_phi_plus, M_phi_minus [K, D_in, D_out]} (exact;
 * minus absent with hankel-l); {@code M_u [k_u, D_out, D_in]}, {@code M_y [k_y, D_out, D_out]} (optional);
 * {@code phi [L_phi, K]} (optional: the filters a model was trained with; computed when absent).
 *
 * <p>Metadata keys (all optional where the weights decide): {@code seq_len} (L for computed filters),
 * {@code num_eigh} (K), {@code use_approx} (true/false), {@code use_hankel_L} (true/false).
 * Inputs longer than phi use it as a kernel of L_phi taps; shorter inputs use its first L rows.
 * phi is a fixed buffer, not a parameter: backward gives no gradient for it. A file whose metadata says it
 * comes from flash-stu ({@code upstream} or {@code source} "flash-stu") but that has no phi loads with longconv's
 * own filters and a one-line warning ({@link FlashStuFilters}).
 */
public final class Stu implements Layer {
    public static final String NAME = "stu";

    public enum Mode {
        APPROX, EXACT;

        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "approx" -> APPROX;
                case "exact" -> EXACT;
                default -> throw new LongConvException(NAME, "mode", "approx or exact", "'" + s + "'");
            };
        }
    }

    /** Hyperparameters; the AR orders are those of M_u and M_y. */
    public record Config(Mode mode, boolean hankelL) {}

    private final Config config;
    private final Tensor phi;
    private final Map<String, Tensor> params;
    private final int numEigh, dIn, dOut, kU, kY;

    /**
     * A layer from its parts. {@code phi} [L_phi, K] and the parameters (by state_dict name) stay owned by the
     * caller and must stay open while the layer is used.
     */
    public Stu(Config config, Tensor phi, Map<String, Tensor> params) {
        this.config = config;
        this.phi = phi;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        if (phi.rank() != 2) throw new LongConvException(NAME, "phi", "shape [L, K]", Arrays.toString(phi.shape()));
        this.numEigh = (int) phi.dim(1);
        if (config.mode() == Mode.APPROX) {
            Tensor mi = need("M_inputs", -1, -1);
            dIn = (int) mi.dim(0);
            dOut = (int) mi.dim(1);
            if (dIn != dOut) throw new LongConvException(NAME, "M_inputs", "a square [D, D] (approx mode needs D_in = D_out)", Arrays.toString(mi.shape()));
            need("M_filters", numEigh, dIn);
        } else {
            Tensor mp = need("M_phi_plus", numEigh, -1, -1);
            dIn = (int) mp.dim(1);
            dOut = (int) mp.dim(2);
            if (!config.hankelL()) need("M_phi_minus", numEigh, dIn, dOut);
        }
        kU = params.containsKey("M_u") ? (int) need("M_u", -1, dOut, dIn).dim(0) : 0;
        kY = params.containsKey("M_y") ? (int) need("M_y", -1, dOut, dOut).dim(0) : 0;
    }

    /**
     * The shapes of the mode's required parameters (not the optional AR weights M_u, M_y), by state_dict name, for
     * {@code numEigh} filters from dIn to dOut channels: M_inputs [dIn, dOut] and M_filters [K, dIn] (approx, where dIn
     * must equal dOut); M_phi_plus and, without hankelL, M_phi_minus [K, dIn, dOut] (exact).
     */
    public static Map<String, long[]> shapes(Config c, int numEigh, int dIn, int dOut) {
        Map<String, long[]> s = new LinkedHashMap<>();
        if (c.mode() == Mode.APPROX) {
            s.put("M_inputs", new long[] {dIn, dOut});
            s.put("M_filters", new long[] {numEigh, dIn});
        } else {
            s.put("M_phi_plus", new long[] {numEigh, dIn, dOut});
            if (!c.hankelL()) s.put("M_phi_minus", new long[] {numEigh, dIn, dOut});
        }
        return s;
    }

    /**
     * The layer for the tensors in {@code w}: mode from the weights present (or {@code use_approx}), filters
     * from {@code phi} or computed for {@code seq_len} and {@code num_eigh}. {@code overrides} replace metadata.
     */
    public static Stu load(Weights w, Map<String, String> overrides) {
        Map<String, String> meta = new HashMap<>(w.metadata());
        meta.putAll(overrides);
        Mode mode = meta.containsKey("mode") ? Mode.parse(meta.get("mode"))
                : meta.containsKey("use_approx") ? (Hyper.bool(NAME, meta, "use_approx", true) ? Mode.APPROX : Mode.EXACT)
                : w.has("M_inputs") ? Mode.APPROX : Mode.EXACT;
        boolean hankelL = Hyper.bool(NAME, meta, "use_hankel_L", false);
        Map<String, Tensor> p = new LinkedHashMap<>();
        if (mode == Mode.APPROX) {
            p.put("M_inputs", w.get(NAME, "M_inputs", -1, -1));
            p.put("M_filters", w.get(NAME, "M_filters", -1, -1));
        } else {
            p.put("M_phi_plus", w.get(NAME, "M_phi_plus", -1, -1, -1));
            if (!hankelL) p.put("M_phi_minus", w.get(NAME, "M_phi_minus", -1, -1, -1));
        }
        for (String ar : new String[] {"M_u", "M_y"}) if (w.has(ar)) p.put(ar, w.get(NAME, ar, -1, -1, -1));
        int k = (int) (mode == Mode.APPROX ? p.get("M_filters").dim(0) : p.get("M_phi_plus").dim(0));
        if (!w.has("phi")) FlashStuFilters.warnIfMissing(w.source(), meta);
        Tensor phi = w.has("phi") ? w.get(NAME, "phi", -1, k) : StuFilterCache.filters(meta, w.source(), k, hankelL);
        return new Stu(new Config(mode, hankelL), phi, p);
    }

    private Tensor need(String name, long... shape) {
        Tensor t = params.get(name);
        if (t == null) throw new LongConvException(NAME, name, "parameter '" + name + "' is missing (have " + params.keySet() + ")");
        boolean ok = t.rank() == shape.length;
        for (int i = 0; ok && i < shape.length; i++) ok = shape[i] < 0 || shape[i] == t.dim(i);
        if (!ok) throw new LongConvException(NAME, name, "shape " + Arrays.toString(shape).replace("-1", "*"), Arrays.toString(t.shape()));
        return t;
    }

    public Config config() {
        return config;
    }

    int dIn() {
        return dIn;
    }

    int dOut() {
        return dOut;
    }

    int numEigh() {
        return numEigh;
    }

    /** The AR orders k_u and k_y. */
    int kU() {
        return kU;
    }

    int kY() {
        return kY;
    }

    /** Kernel taps at input length L: phi's rows, at most L. */
    int taps(int length) {
        return (int) Math.min(length, phi.dim(0));
    }

    @Override
    public long[] outputShape(long[] inputShape) {
        long[] s = inputShape.clone();
        s[s.length - 1] = dOut;
        return s;
    }

    /** The filters folded (approx) or per eigenvector (exact) into plans for inputs of {@code length}: see {@link PreparedStu}. */
    @Override
    public PreparedLayer prepare(Backend backend, DType dtype, int length) {
        return new PreparedStu(this, backend, dtype, length);
    }

    /** Token-by-token decoding: see {@link StuSession}. */
    @Override
    public LayerSession session(Backend backend, DType dtype, int batch, int maxLength) {
        return new StuSession(this, backend, dtype, batch, maxLength);
    }

    public Tensor phi() {
        return phi;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Tensor> parameters() {
        return params;
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        checkInput("x", x, dIn);
        Tensor y = config.mode() == Mode.APPROX ? approxForward(backend, x) : exactForward(backend, x);
        if (kU > 0 || kY > 0) {
            try {
                double[] yv = y.toDoubleArray();
                autoregress(x, yv);
                LayerMath.write(y, yv);
            } catch (RuntimeException | Error e) {
                y.close();
                throw e;
            }
        }
        return y;
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        checkInput("x", x, dIn);
        checkInput("gy", gy, dOut);
        if (gy.dim(0) != x.dim(0) || gy.dim(1) != x.dim(1) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + " [" + x.dim(0) + ", " + x.dim(1) + ", " + dOut + "]",
                    gy.dtype() + " " + Arrays.toString(gy.shape()));
        }
        Map<String, Tensor> grads = new LinkedHashMap<>();
        Tensor gs = null, dx = null;
        try {
            double[] dxAr = null;
            if (kU > 0 || kY > 0) {
                double[] g = gy.toDoubleArray();
                dxAr = new double[(int) x.numel()];
                autoregressBackward(backend, x, g, dxAr, grads);
                gs = LayerMath.of(x.dtype(), g, gy.shape());
            }
            Tensor gSpec = gs == null ? gy : gs;
            dx = config.mode() == Mode.APPROX ? approxBackward(backend, x, gSpec, grads) : exactBackward(backend, x, gSpec, grads);
            if (dxAr != null) {
                try (Tensor t = LayerMath.of(x.dtype(), dxAr, x.shape())) {
                    addInto(dx, t, 1);
                }
            }
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            for (String name : params.keySet()) ordered.put(name, grads.get(name));
            return new LayerGrads(dx, ordered);
        } catch (RuntimeException | Error e) {
            grads.values().forEach(Tensor::close);
            if (dx != null) dx.close();
            throw e;
        } finally {
            if (gs != null) gs.close();
        }
    }

    private void checkInput(String arg, Tensor x, int channels) {
        if (x.device() != Device.CPU) throw new LongConvException(NAME, arg, "a cpu tensor", x.device().toString());
        if (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64) throw new LongConvException(NAME, arg, "float32 or float64", x.dtype().toString());
        if (x.rank() != 3 || x.dim(2) != channels || x.dim(1) < 1) {
            throw new LongConvException(NAME, arg, "shape [B, L>=1, D=" + channels + "] (BLD)", Arrays.toString(x.shape()));
        }
    }

    private int taps(Tensor x) {
        return taps(Math.toIntExact(x.dim(1)));
    }

    /** 1 + sgn[s] (or 1 with hankel-l): the folded two-branch weight of tap s. */
    double[] branchWeights(int taps) {
        double[] c = new double[taps];
        for (int s = 0; s < taps; s++) c[s] = config.hankelL() ? 1 : (s % 2 == 0 ? 2 : 0);
        return c;
    }

    /** The approx-mode kernel (1 + sgn) * (phi M_filters), [taps, D] (BLD kernel layout). */
    Tensor approxKernel(Backend backend, DType dt, int taps) {
        try (Tensor ph = cast(phi.slice(0, 0, taps), dt)) {
            Tensor k = matmul(backend, ph, params.get("M_filters"), false);
            LayerMath.scaleRows(k, branchWeights(taps));
            return k;
        }
    }

    private Tensor approxForward(Backend backend, Tensor x) {
        try (Tensor xt = matmul(backend, x, params.get("M_inputs"), false); Tensor k = approxKernel(backend, x.dtype(), taps(x))) {
            return backend.causalConv(xt, k, Layout.BLD);
        }
    }

    private Tensor approxBackward(Backend backend, Tensor x, Tensor g, Map<String, Tensor> grads) {
        int taps = taps(x);
        Tensor mIn = params.get("M_inputs");
        try (Tensor xt = matmul(backend, x, mIn, false); Tensor k = approxKernel(backend, x.dtype(), taps);
                Grads cg = backend.causalConvBackward(xt, k, g, Layout.BLD); Tensor ph = cast(phi.slice(0, 0, taps), x.dtype());
                Tensor dxt = cg.dx().contiguous(); Tensor xc = x.contiguous()) {
            LayerMath.scaleRows(cg.dk(), branchWeights(taps));
            grads.put("M_filters", backend.gemm(ph, cg.dk(), true, false));
            grads.put("M_inputs", backend.gemm(xc.reshape(-1, dIn), dxt.reshape(-1, dOut), true, false));
            return matmul(backend, dxt, mIn, true);
        }
    }

    /** [taps, D_in]: every channel's kernel is phi_k, times sgn for the minus branch. */
    Tensor channelKernel(DType dt, int k, int taps, boolean minus) {
        double[] v = new double[taps * dIn];
        for (int s = 0; s < taps; s++) {
            double f = phi.get(s, k) * (minus && s % 2 == 1 ? -1 : 1);
            Arrays.fill(v, s * dIn, (s + 1) * dIn, f);
        }
        return LayerMath.of(dt, v, taps, dIn);
    }

    String[] branches() {
        return config.hankelL() ? new String[] {"M_phi_plus"} : new String[] {"M_phi_plus", "M_phi_minus"};
    }

    private Tensor exactForward(Backend backend, Tensor x) {
        int taps = taps(x);
        Tensor y = Tensor.zeros(x.dtype(), x.dim(0), x.dim(1), dOut);
        try {
            for (int k = 0; k < numEigh; k++) {
                for (String m : branches()) {
                    try (Tensor kern = channelKernel(x.dtype(), k, taps, m.equals("M_phi_minus")); Tensor u = backend.causalConv(x, kern, Layout.BLD);
                            Tensor part = matmul(backend, u, params.get(m).slice(0, k, k + 1).reshape(dIn, dOut), false)) {
                        addInto(y, part, 1);
                    }
                }
            }
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    private Tensor exactBackward(Backend backend, Tensor x, Tensor g, Map<String, Tensor> grads) {
        int taps = taps(x);
        Tensor dx = Tensor.zeros(x.dtype(), x.shape());
        try (Tensor gc = g.contiguous()) {
            for (String m : branches()) grads.put(m, Tensor.zeros(x.dtype(), numEigh, dIn, dOut));
            for (int k = 0; k < numEigh; k++) {
                for (String m : branches()) {
                    Tensor mk = params.get(m).slice(0, k, k + 1).reshape(dIn, dOut);
                    try (Tensor kern = channelKernel(x.dtype(), k, taps, m.equals("M_phi_minus")); Tensor u = backend.causalConv(x, kern, Layout.BLD);
                            Tensor dm = backend.gemm(u.reshape(-1, dIn), gc.reshape(-1, dOut), true, false);
                            Tensor du = matmul(backend, gc, mk, true); Grads cg = backend.causalConvBackward(x, kern, du, Layout.BLD);
                            Tensor dxk = cg.dx().contiguous()) {
                        LayerMath.copyInto(grads.get(m).slice(0, k, k + 1), dm);
                        addInto(dx, dxk, 1);
                    }
                }
            }
            return dx;
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
    }

    /** y (the spectral output, [B, L, D_out] flat) += the AR terms, in place; the y-recursion runs forward in t. */
    void autoregress(Tensor x, double[] y) {
        int b = (int) x.dim(0), len = (int) x.dim(1);
        double[] xv = x.toDoubleArray();
        double[] mu = kU > 0 ? params.get("M_u").toDoubleArray() : null, my = kY > 0 ? params.get("M_y").toDoubleArray() : null;
        for (int bb = 0; bb < b; bb++) {
            for (int t = 0; t < len; t++) {
                int yo = (bb * len + t) * dOut;
                for (int i = 0; i < kU && i <= t; i++) {
                    int xo = (bb * len + t - i) * dIn;
                    for (int o = 0; o < dOut; o++) {
                        double acc = 0;
                        for (int p = 0, mo = (i * dOut + o) * dIn; p < dIn; p++) acc += mu[mo + p] * xv[xo + p];
                        y[yo + o] += acc;
                    }
                }
                for (int j = 1; j <= kY && j <= t; j++) {
                    int po = (bb * len + t - j) * dOut;
                    for (int o = 0; o < dOut; o++) {
                        double acc = 0;
                        for (int p = 0, mo = ((j - 1) * dOut + o) * dOut; p < dOut; p++) acc += my[mo + p] * y[po + p];
                        y[yo + o] += acc;
                    }
                }
            }
        }
    }

    /**
     * Turns gy (in place) into the gradient of the spectral output, adds the AR terms' x gradient to dx and
     * puts dM_u and dM_y in grads. The y-recursion's adjoint runs backward in t: g_t = gy_t + sum_j M_y[j-1]^T g_{t+j}.
     */
    private void autoregressBackward(Backend backend, Tensor x, double[] g, double[] dx, Map<String, Tensor> grads) {
        int b = (int) x.dim(0), len = (int) x.dim(1);
        double[] xv = x.toDoubleArray();
        double[] mu = kU > 0 ? params.get("M_u").toDoubleArray() : null, my = kY > 0 ? params.get("M_y").toDoubleArray() : null;
        double[] y = null;
        if (kY > 0) {
            try (Tensor yt = forward(backend, x)) {
                y = yt.toDoubleArray();
            }
        }
        double[] dmu = new double[kU * dOut * dIn], dmy = new double[kY * dOut * dOut];
        for (int bb = 0; bb < b; bb++) {
            for (int t = len - 1; t >= 0; t--) {
                int go = (bb * len + t) * dOut;
                for (int j = 1; j <= kY && t + j < len; j++) {
                    int no = (bb * len + t + j) * dOut;
                    for (int o = 0; o < dOut; o++) {
                        double acc = 0;
                        for (int p = 0; p < dOut; p++) acc += my[((j - 1) * dOut + p) * dOut + o] * g[no + p];
                        g[go + o] += acc;
                    }
                }
            }
            for (int t = 0; t < len; t++) {
                int go = (bb * len + t) * dOut;
                for (int j = 1; j <= kY && j <= t; j++) {
                    int po = (bb * len + t - j) * dOut;
                    for (int o = 0; o < dOut; o++) {
                        for (int p = 0, mo = ((j - 1) * dOut + o) * dOut; p < dOut; p++) dmy[mo + p] += g[go + o] * y[po + p];
                    }
                }
                for (int i = 0; i < kU && i <= t; i++) {
                    int xo = (bb * len + t - i) * dIn;
                    for (int o = 0; o < dOut; o++) {
                        double gv = g[go + o];
                        for (int p = 0, mo = (i * dOut + o) * dIn; p < dIn; p++) {
                            dmu[mo + p] += gv * xv[xo + p];
                            dx[xo + p] += mu[mo + p] * gv;
                        }
                    }
                }
            }
        }
        if (kU > 0) grads.put("M_u", LayerMath.of(x.dtype(), dmu, kU, dOut, dIn));
        if (kY > 0) grads.put("M_y", LayerMath.of(x.dtype(), dmy, kY, dOut, dOut));
    }
}
