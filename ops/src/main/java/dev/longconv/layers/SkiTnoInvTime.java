package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ski-tnn's {@code SKITnoInvTime} (jonathanmei/ski-tnn, {@code laxtnn/modules/skitno_inv_time.py}): the SKI-TNO
 * whose kernel is a learned piecewise-linear function of the inverse-time-warped lag, on x [B, L, H·dim] (see
 * {@link SparseLowRankTno} for the sparse and low-rank structure). With γ the {@code gamma} buffer, the inducing
 * positions p_k = k (L-1)/(r-1), k = 0..r-1, computed in float32 as upstream, and sign0(0) = +1:
 * <pre>
 *   g(τ) = linear interpolation of the grid at u = sign0(τ) γ^|τ| (torch's grid_sample, bilinear,
 *          align_corners, zero padding), the grid spanning [-1, 1]:
 *            bidirectional: [betas (r), 0, alphas (r)] (2r+1 points), so lag 0 reads alphas' last point
 *            causal:        [0, alphas (r)] (r+1 points) at 2u - 1
 *   bidirectional:  kr(m) = g(sign(m) p_|m|), m = -(r-1)..r-1
 *                   W: τ_t = linspace(0, L, L)[t] (float32), falloff_t = γ^(τ_t·L),
 *                      k_t = searchsorted(p, τ_t) clamped to [0, r-2], w_t = (τ_t - p_k) (r-1)/(L-1) (float32),
 *                      W[t, k_t] = falloff_t w_t,  W[t, k_t + 1] = falloff_t (1 - w_t)
 *                      (searchsorted's side puts τ_t at or below p_k, so the weights extrapolate: w_t &lt;= 0)
 *   causal:         g(p_k) at the r inducing points interpolated linearly (align_corners) to lags 0..L-1
 * </pre>
 * state_dict: conv_kernel [H·dim, nk] (causal: [H·dim, nk/2+1]), alphas [1, H·dim, 1, r], betas [1, H·dim, 1, r]
 * (bidirectional), the buffer gamma [1]. Hyperparameters for {@link #load} (upstream's names): h, dim, r, nk
 * (required), causal (false), gamma (0.999; only used when the weights have no gamma buffer), normalize (false;
 * true is refused).
 */
public final class SkiTnoInvTime extends SparseLowRankTno {
    public static final String NAME = "ski-tno-inv-time";

    /** Hyperparameters; nk as upstream stores it (odd). */
    public record Config(int h, int dim, int r, int nk, boolean causal, double gamma) {
        public Config {
            nk = Shape.oddWidth(nk);
            new Shape(h, dim, r, nk, causal);
        }

        Shape shape() {
            return new Shape(h, dim, r, nk, causal);
        }

        static Config parse(TnoHyperparameters p, int h, int dim, String rKey, double defaultGamma) {
            p.refuse("normalize", NAME, "false (upstream's normalize fails for H*dim > 1)");
            return new Config(h, dim, p.integer(rKey), p.integer("nk"), p.flag("causal", false), p.real("gamma", defaultGamma));
        }
    }

    private final Config config;

    public SkiTnoInvTime(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    SkiTnoInvTime(Config config, String prefix, Map<String, Tensor> stateDict) {
        super(NAME, config.shape(), prefix, learned(config, prefix), stateDict, gamma(stateDict, prefix, config.gamma()));
        this.config = config;
    }

    public static SkiTnoInvTime load(Weights w, Map<String, String> overrides) {
        TnoHyperparameters p = new TnoHyperparameters(NAME, w.metadata(), overrides);
        Config c = Config.parse(p, p.integer("h"), p.integer("dim"), "r", 0.999);
        return new SkiTnoInvTime(c, fetchWithBuffers(w, c, ""));
    }

    static Map<String, Tensor> fetchWithBuffers(Weights w, Config c, String prefix) {
        Map<String, Tensor> m = Tno.fetch(w, learned(c, prefix));
        if (w.has(prefix + "gamma")) m.put(prefix + "gamma", w.tensor(prefix + "gamma"));
        return m;
    }

    /** Names and shapes of the learned parameters in upstream's order; the gamma buffer [1] comes with them. */
    public static Map<String, long[]> learned(Config c, String prefix) {
        long hd = (long) c.h() * c.dim();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(prefix + "conv_kernel", new long[] {hd, c.shape().kernelWidth()});
        s.put(prefix + "alphas", new long[] {1, hd, 1, c.r()});
        if (!c.causal()) s.put(prefix + "betas", new long[] {1, hd, 1, c.r()});
        return s;
    }

    public Config config() {
        return config;
    }

    /** p_k = k (L-1) / (r-1) as torch computes arange(r) * (L-1) / (r-1): an int64 product, then a float32 division. */
    private double[] positions(int len) {
        int r = config.r();
        double[] p = new double[r];
        for (int k = 0; k < r; k++) p[k] = (float) ((float) ((long) k * (len - 1)) / (float) (r - 1));
        return p;
    }

    /** One grid read: the two grid indices (-1 where out of range) and their weights. */
    private record Read(int i0, int i1, double w0, double w1) {}

    /** Where g reads for position τ (in dtype dt). */
    private Read read(double tau, DType dt) {
        int r = config.r();
        double u = round(dt, (tau >= 0 ? 1 : -1) * pow(dt, gammaValue, Math.abs(tau)));
        int points;
        double x;
        if (config.causal()) {
            x = round(dt, 2 * u - 1);
            points = r + 1;
        } else {
            x = u;
            points = 2 * r + 1;
        }
        double ix = round(dt, round(dt, x + 1) * ((points - 1) / 2.0));
        int i0 = (int) Math.floor(ix);
        double f = ix - i0;
        return new Read(i0 >= 0 && i0 < points ? i0 : -1, i0 + 1 < points ? i0 + 1 : -1, 1 - f, f);
    }

    /** The grid per channel, [ch, points]: bidirectional [betas, 0, alphas], causal [0, alphas]. */
    private double[] grid() {
        int r = config.r(), ch = shape.channels(), points = config.causal() ? r + 1 : 2 * r + 1;
        double[] al = value("alphas"), be = config.causal() ? null : value("betas"), g = new double[ch * points];
        for (int c = 0; c < ch; c++) {
            for (int k = 0; k < r; k++) {
                g[c * points + points - r + k] = al[c * r + k];
                if (be != null) g[c * points + k] = be[c * r + k];
            }
        }
        return g;
    }

    /** g at each τ as rows [n, ch], and the reads. */
    private double[] sample(double[] taus, DType dt, Read[] reads) {
        int ch = shape.channels(), points = config.causal() ? config.r() + 1 : 2 * config.r() + 1;
        double[] g = grid(), out = new double[taus.length * ch];
        for (int i = 0; i < taus.length; i++) {
            Read rd = read(taus[i], dt);
            reads[i] = rd;
            for (int c = 0; c < ch; c++) {
                double v = 0;
                if (rd.i0 >= 0) v += rd.w0 * g[c * points + rd.i0];
                if (rd.i1 >= 0) v += rd.w1 * g[c * points + rd.i1];
                out[i * ch + c] = v;
            }
        }
        return out;
    }

    /** The grid's adjoint: gradients of the sampled rows [n, ch] back to alphas (and betas). */
    private Map<String, double[]> sampleBackward(Read[] reads, double[] g) {
        int r = config.r(), ch = shape.channels(), points = config.causal() ? r + 1 : 2 * r + 1;
        double[] ga = new double[ch * r], gb = config.causal() ? null : new double[ch * r];
        for (int i = 0; i < reads.length; i++) {
            Read rd = reads[i];
            for (int c = 0; c < ch; c++) {
                double v = g[i * ch + c];
                if (rd.i0 >= 0) add(ga, gb, c, rd.i0, rd.w0 * v, points, r);
                if (rd.i1 >= 0) add(ga, gb, c, rd.i1, rd.w1 * v, points, r);
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        out.put(prefix + "alphas", ga);
        if (gb != null) out.put(prefix + "betas", gb);
        return out;
    }

    private static void add(double[] ga, double[] gb, int c, int point, double v, int points, int r) {
        int alphaStart = points - r;
        if (point >= alphaStart) ga[c * r + point - alphaStart] += v;
        else if (gb != null && point < r) gb[c * r + point] += v;
    }

    private record Context(Read[] reads, int[][] index, double[] lambda) {}

    @Override
    LowRankW lowRankW(int len, DType dt) {
        int r = config.r();
        double[] tau = TorchFloat32.linspace(0, len, len), p = positions(len);
        int[] col = new int[len];
        double[] a = new double[len], b = new double[len];
        for (int t = 0; t < len; t++) {
            double falloff = pow(dt, gammaValue, (float) (tau[t] * len));
            int k = searchsortedClamped(p, tau[t]);
            float wl = (float) ((float) (tau[t] - p[k]) * (r - 1)) / (len - 1), wu = 1 - wl;
            col[t] = k;
            a[t] = round(dt, falloff * wl);
            b[t] = round(dt, falloff * wu);
        }
        return new LowRankW(col, a, b);
    }

    @Override
    KernelPass inducingKernel(Backend be, DType dt, int len, boolean forBackward) {
        int r = config.r();
        double[] p = positions(len), taus = new double[2 * r - 1];
        for (int m = -(r - 1); m <= r - 1; m++) taus[m + r - 1] = m < 0 ? -p[-m] : p[m];
        Read[] reads = new Read[taus.length];
        double[] k = sample(taus, dt, reads);
        return new KernelPass(k, new Context(reads, null, null));
    }

    @Override
    Map<String, double[]> inducingKernelBackward(Backend be, DType dt, KernelPass pass, double[] dkr) {
        return sampleBackward(((Context) pass.context()).reads(), dkr);
    }

    @Override
    KernelPass causalKernel(Backend be, DType dt, int len, boolean forBackward) {
        int r = config.r(), ch = shape.channels();
        Read[] reads = new Read[r];
        double[] s = sample(positions(len), dt, reads), lambda = new double[len], k = new double[len * ch];
        int[][] idx = alignedCornersIndex(r, len, dt, lambda);
        for (int j = 0; j < len; j++) {
            int i0 = idx[j][0], i1 = idx[j][1];
            for (int c = 0; c < ch; c++) k[j * ch + c] = (1 - lambda[j]) * s[i0 * ch + c] + lambda[j] * s[i1 * ch + c];
        }
        return new KernelPass(k, new Context(reads, idx, lambda));
    }

    @Override
    Map<String, double[]> causalKernelBackward(Backend be, DType dt, KernelPass pass, double[] da) {
        Context c = (Context) pass.context();
        int ch = shape.channels(), len = c.lambda().length;
        double[] gs = new double[config.r() * ch];
        for (int j = 0; j < len; j++) {
            int i0 = c.index()[j][0], i1 = c.index()[j][1];
            double l = c.lambda()[j];
            for (int q = 0; q < ch; q++) {
                gs[i0 * ch + q] += (1 - l) * da[j * ch + q];
                gs[i1 * ch + q] += l * da[j * ch + q];
            }
        }
        return sampleBackward(c.reads(), gs);
    }
}
