package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ski-tnn's {@code SKITno} (jonathanmei/ski-tnn, {@code laxtnn/modules/skitno.py}): the SKI-TNO whose inducing
 * kernel comes from a relative position encoder ({@link Rpe}, outdim H·dim), on x [B, L, H·dim] (see
 * {@link SparseLowRankTno} for the sparse and low-rank structure). With ρ = the {@code inducing} buffer
 * (torch.linspace(0, 1, r), float32), γ = the {@code gamma} buffer and act = act_type:
 * <pre>
 *   bidirectional:  kr(m) = act(rpe(sign(m) ρ[|m|])), m = -(r-1)..r-1
 *                   W: τ_t = linspace(0, L, L)[t] (float32), falloff_t = γ^(τ_t·L),
 *                      k_t = searchsorted(ρ (L-1), τ_t) clamped to [0, r-2],
 *                      w_t = (τ_t - ρ[k_t]) (r-1) / (L-1)     (upstream subtracts the unscaled ρ),
 *                      W[t, k_t] = falloff_t w_t,  W[t, k_t + 1] = falloff_t (1 - w_t)
 *   causal:         p = rpe(ρ (L-1)) at the r inducing points, interpolated linearly (align_corners) to lags
 *                   0..L-1, k(j) = act(p(j)) γ^j
 * </pre>
 * The low-rank part is upstream's as written, including its weights (they give w_t to the lower neighbour and
 * can leave [0, 1]); the falloff makes it vanish quickly along L.
 *
 * <p>state_dict: conv_kernel [H·dim, nk] (causal: [H·dim, nk/2+1]), the buffers gamma [1] and inducing [r], rpe.*.
 * Hyperparameters for {@link #load} (upstream's names): h, dim, r, nk (required), causal (false), rpe_dim (4),
 * residual (false), act ("relu"), bias (true), layers (3), norm_type ("simplermsnorm"), act_type ("none"),
 * gamma (0.999; only used when the weights have no gamma buffer), normalize (false; true is refused).
 */
public final class SkiTnoRpe extends SparseLowRankTno {
    public static final String NAME = "ski-tno-rpe";

    /** Hyperparameters; nk as upstream stores it (odd). */
    public record Config(int h, int dim, int r, int nk, boolean causal, int rpeDim, boolean residual, Activation act, boolean bias,
                         int layers, NormType normType, Activation actType, double gamma) {
        public Config {
            nk = Shape.oddWidth(nk);
            new Shape(h, dim, r, nk, causal);
        }

        Shape shape() {
            return new Shape(h, dim, r, nk, causal);
        }

        Rpe.Config rpe() {
            return new Rpe.Config(rpeDim, h * dim, residual, act, bias, layers, normType);
        }

        /** From upstream's argument names; {@code rpeKey} is "rpe_dim" (SKITno) or "rpe_embedding" (ski-tnn's Gtu). */
        static Config parse(TnoHyperparameters p, int h, int dim, String rKey, String rpeKey, String actKey, String layersKey, double defaultGamma) {
            p.refuse("normalize", NAME, "false (upstream's normalize fails for H*dim > 1)");
            return new Config(h, dim, p.integer(rKey), p.integer("nk"), p.flag("causal", false), p.integer(rpeKey, 4),
                    p.flag("residual", false), p.skiTnnActivation(actKey, "relu"), p.flag("bias", true), p.integer(layersKey, 3),
                    p.norm("norm_type", "simplermsnorm"), p.skiTnnActivation("act_type", "none"), p.real("gamma", defaultGamma));
        }
    }

    private final Config config;
    private final Rpe rpe;
    private final double[] inducing;

    /** A layer from its config and state_dict (tensors kept, not copied; the buffers are read once). */
    public SkiTnoRpe(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    SkiTnoRpe(Config config, String prefix, Map<String, Tensor> stateDict) {
        super(NAME, config.shape(), prefix, learned(config, prefix), stateDict, gamma(stateDict, prefix, config.gamma()));
        this.config = config;
        this.rpe = new Rpe(NAME, config.rpe(), prefix + "rpe.", params);
        Tensor ind = stateDict.get(prefix + "inducing");
        this.inducing = ind != null ? TnoTensors.require(NAME, stateDict, prefix + "inducing", config.r()).toDoubleArray()
                : TorchFloat32.linspace(0, 1, config.r());
    }

    public static SkiTnoRpe load(Weights w, Map<String, String> overrides) {
        TnoHyperparameters p = new TnoHyperparameters(NAME, w.metadata(), overrides);
        Config c = Config.parse(p, p.integer("h"), p.integer("dim"), "r", "rpe_dim", "act", "layers", 0.999);
        return new SkiTnoRpe(c, fetchWithBuffers(w, c, ""));
    }

    /** The learned tensors and the buffers (gamma, inducing) that the weights hold. */
    static Map<String, Tensor> fetchWithBuffers(Weights w, Config c, String prefix) {
        Map<String, Tensor> m = Tno.fetch(w, learned(c, prefix));
        for (String b : new String[] {"gamma", "inducing"}) if (w.has(prefix + b)) m.put(prefix + b, w.tensor(prefix + b));
        return m;
    }

    /** Names and shapes of the learned parameters (conv_kernel, rpe.*); the buffers gamma [1] and inducing [r] come with them. */
    public static Map<String, long[]> learned(Config c, String prefix) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(prefix + "conv_kernel", new long[] {(long) c.h() * c.dim(), c.shape().kernelWidth()});
        s.putAll(Rpe.shapes(c.rpe(), prefix + "rpe."));
        return s;
    }

    public Config config() {
        return config;
    }

    private record Context(Rpe.Pass rpe, double[] pre, int[][] index, double[] lambda, double[] decay) {}

    @Override
    LowRankW lowRankW(int len, DType dt) {
        int r = config.r();
        double[] tau = TorchFloat32.linspace(0, len, len), bounds = new double[r];
        for (int k = 0; k < r; k++) bounds[k] = round(dt, inducing[k] * (len - 1));
        int[] col = new int[len];
        double[] a = new double[len], b = new double[len];
        for (int t = 0; t < len; t++) {
            double falloff = pow(dt, gammaValue, (float) (tau[t] * len));
            int k = searchsortedClamped(bounds, tau[t]);
            double wl = round(dt, round(dt, round(dt, tau[t] - inducing[k]) * (r - 1)) / (len - 1)), wu = round(dt, 1 - wl);
            col[t] = k;
            a[t] = round(dt, falloff * wl);
            b[t] = round(dt, falloff * wu);
        }
        return new LowRankW(col, a, b);
    }

    @Override
    KernelPass inducingKernel(Backend be, DType dt, int len, boolean forBackward) {
        int r = config.r(), ch = shape.channels();
        double[] pos = new double[2 * r - 1];
        for (int m = -(r - 1); m <= r - 1; m++) pos[m + r - 1] = m < 0 ? -inducing[-m] : inducing[m];
        Rpe.Pass pass = rpe.forward(be, dt, pos, forBackward);
        double[] pre = pass.output(), k = new double[pre.length];
        for (int i = 0; i < pre.length; i++) k[i] = config.actType().apply(pre[i]);
        return new KernelPass(k, new Context(pass, pre, null, null, null));
    }

    @Override
    Map<String, double[]> inducingKernelBackward(Backend be, DType dt, KernelPass pass, double[] dkr) {
        Context c = (Context) pass.context();
        double[] g = new double[dkr.length];
        for (int i = 0; i < g.length; i++) g[i] = dkr[i] * config.actType().derivative(c.pre()[i]);
        return rpe.backward(be, dt, c.rpe(), g);
    }

    @Override
    KernelPass causalKernel(Backend be, DType dt, int len, boolean forBackward) {
        int r = config.r(), ch = shape.channels();
        double[] pos = new double[r];
        for (int k = 0; k < r; k++) pos[k] = round(dt, inducing[k] * (len - 1));
        Rpe.Pass pass = rpe.forward(be, dt, pos, forBackward);
        double[] p = pass.output(), lambda = new double[len], pre = new double[len * ch], k = new double[len * ch], decay = new double[len];
        int[][] idx = alignedCornersIndex(r, len, dt, lambda);
        for (int j = 0; j < len; j++) {
            decay[j] = pow(dt, gammaValue, j);
            int i0 = idx[j][0], i1 = idx[j][1];
            for (int c = 0; c < ch; c++) {
                double v = (1 - lambda[j]) * p[i0 * ch + c] + lambda[j] * p[i1 * ch + c];
                pre[j * ch + c] = v;
                k[j * ch + c] = config.actType().apply(v) * decay[j];
            }
        }
        return new KernelPass(k, new Context(pass, pre, idx, lambda, decay));
    }

    @Override
    Map<String, double[]> causalKernelBackward(Backend be, DType dt, KernelPass pass, double[] da) {
        Context c = (Context) pass.context();
        int ch = shape.channels(), len = c.lambda().length;
        double[] gp = new double[config.r() * ch];
        for (int j = 0; j < len; j++) {
            int i0 = c.index()[j][0], i1 = c.index()[j][1];
            double l = c.lambda()[j];
            for (int q = 0; q < ch; q++) {
                double g = da[j * ch + q] * c.decay()[j] * config.actType().derivative(c.pre()[j * ch + q]);
                gp[i0 * ch + q] += (1 - l) * g;
                gp[i1 * ch + q] += l * g;
            }
        }
        return rpe.backward(be, dt, c.rpe(), gp);
    }
}
