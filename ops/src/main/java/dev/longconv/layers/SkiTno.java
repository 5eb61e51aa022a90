package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Grads;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * longconv's own SKI-TNO parameterisation (not ski-tnn's: for checkpoints of the SKI-TNN paper's code use
 * {@link SkiTnoRpe}, its SKITno, or {@link SkiTnoInvTime}, its SKITnoInvTime), a bidirectional Toeplitz operator
 * split into a sparse and a low-rank part, on x [B, L, D] (BLD):
 * y = short-conv(x; w, mode same) + ski(x; kr). The inducing-lag kernel kr comes from a learned grid g [D, G]
 * on [-1, 1] by the inverse time warp: kr[d, m + r - 1] = g_d interpolated linearly at sign(tau_m) gamma^|tau_m|,
 * tau_m = m (L-1)/(r-1), m = -(r-1)..r-1 (grid point j at -1 + 2j/(G-1)). The kernel lives on warped lags,
 * so the same weights run at any L.
 *
 * <p>Weights: {@code w [D, nk]} (nk odd), {@code g [D, G]} (G >= 2). Metadata: {@code r} (inducing points,
 * >= 2) and {@code gamma} (0 &lt; gamma &lt; 1), both required unless given as overrides.
 */
public final class SkiTno implements Layer {
    public static final String NAME = "ski-tno";

    public record Config(int r, double gamma) {
        public Config {
            if (r < 2) throw new LongConvException(NAME, "r", "r >= 2 inducing points", "r=" + r);
            if (!(gamma > 0 && gamma < 1)) throw new LongConvException(NAME, "gamma", "0 < gamma < 1", "gamma=" + gamma);
        }
    }

    private final Config config;
    private final Map<String, Tensor> params;
    private final int channels, width, gridSize;

    /** {@code w [D, nk]} and {@code g [D, G]} stay owned by the caller. */
    public SkiTno(Config config, Tensor w, Tensor g) {
        this.config = config;
        if (w.rank() != 2 || w.dim(1) % 2 == 0) throw new LongConvException(NAME, "w", "shape [D, nk] with nk odd", Arrays.toString(w.shape()));
        if (g.rank() != 2 || g.dim(0) != w.dim(0) || g.dim(1) < 2) {
            throw new LongConvException(NAME, "g", "shape [D=" + w.dim(0) + ", G>=2]", Arrays.toString(g.shape()));
        }
        this.channels = (int) w.dim(0);
        this.width = (int) w.dim(1);
        this.gridSize = (int) g.dim(1);
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("w", w);
        p.put("g", g);
        this.params = java.util.Collections.unmodifiableMap(p);
    }

    public static SkiTno load(Weights weights, Map<String, String> overrides) {
        Map<String, String> meta = new HashMap<>(weights.metadata());
        meta.putAll(overrides);
        Config c = new Config(Hyper.integer(NAME, meta, "r"), Hyper.real(NAME, meta, "gamma"));
        return new SkiTno(c, weights.get(NAME, "w", -1, -1), weights.get(NAME, "g", -1, -1));
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
     * The interpolation of the warped lags on the grid for length L: lag m + r - 1 reads g at
     * {@code index[m]} and {@code index[m] + 1} with weights 1 - frac[m] and frac[m].
     */
    record Warp(int[] index, double[] frac) {}

    Warp warp(int len) {
        int r = config.r(), n = 2 * r - 1;
        int[] index = new int[n];
        double[] frac = new double[n];
        for (int m = -(r - 1); m <= r - 1; m++) {
            double tau = (double) m * (len - 1) / (r - 1);
            double u = Math.signum(tau) * Math.pow(config.gamma(), Math.abs(tau));
            double pos = (u + 1) * (gridSize - 1) / 2;
            int j = Math.min((int) Math.floor(pos), gridSize - 2);
            index[m + r - 1] = j;
            frac[m + r - 1] = pos - j;
        }
        return new Warp(index, frac);
    }

    /** kr [2r-1, D] (the BLD kernel layout) from the grid. */
    Tensor kernel(DType dt, int len) {
        Warp wp = warp(len);
        int n = wp.index().length;
        Tensor g = params.get("g");
        double[] kr = new double[n * channels];
        for (int m = 0; m < n; m++) {
            for (int d = 0; d < channels; d++) {
                kr[m * channels + d] = (1 - wp.frac()[m]) * g.get(d, wp.index()[m]) + wp.frac()[m] * g.get(d, wp.index()[m] + 1);
            }
        }
        return LayerMath.of(dt, kr, n, channels);
    }

    private void check(String arg, Tensor x) {
        if (x.device() != Device.CPU) throw new LongConvException(NAME, arg, "a cpu tensor", x.device().toString());
        if (x.rank() != 3 || x.dim(2) != channels || x.dim(1) < 1) {
            throw new LongConvException(NAME, arg, "shape [B, L>=1, D=" + channels + "] (BLD)", Arrays.toString(x.shape()));
        }
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        check("x", x);
        try (Tensor wt = params.get("w").transpose(0, 1).to(x.dtype()); Tensor kr = kernel(x.dtype(), (int) x.dim(1));
                Tensor ys = backend.ski(x, kr, Layout.BLD)) {
            Tensor y = backend.shortConv(x, wt, null, ShortConvMode.SAME, Layout.BLD);
            LayerMath.addInto(y, ys, 1);
            return y;
        }
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        check("x", x);
        check("gy", gy);
        int len = (int) x.dim(1);
        try (Tensor wt = params.get("w").transpose(0, 1).to(x.dtype()); Tensor kr = kernel(x.dtype(), len);
                Grads sc = backend.shortConvBackward(x, wt, null, ShortConvMode.SAME, gy, Layout.BLD);
                Grads sk = backend.skiBackward(x, kr, gy, Layout.BLD)) {
            Tensor dx = sc.dx().copy();
            Map<String, Tensor> grads = new LinkedHashMap<>();
            try {
                try (Tensor d2 = sk.dx().contiguous()) {
                    LayerMath.addInto(dx, d2, 1);
                }
                grads.put("w", LayerMath.transposed(sc.dk()));
                grads.put("g", gridGradient(sk.dk(), len, x.dtype()));
                return new LayerGrads(dx, grads);
            } catch (RuntimeException | Error e) {
                dx.close();
                grads.values().forEach(Tensor::close);
                throw e;
            }
        }
    }

    /** dg[d, j]: each lag's gradient dkr[m, d] flows back to the two grid points it interpolates. */
    private Tensor gridGradient(Tensor dkr, int len, DType dt) {
        Warp wp = warp(len);
        double[] dg = new double[channels * gridSize];
        for (int m = 0; m < wp.index().length; m++) {
            int j = wp.index()[m];
            double f = wp.frac()[m];
            for (int d = 0; d < channels; d++) {
                double v = dkr.get(m, d);
                dg[d * gridSize + j] += (1 - f) * v;
                dg[d * gridSize + j + 1] += f * v;
            }
        }
        return LayerMath.of(dt, dg, channels, gridSize);
    }
}
