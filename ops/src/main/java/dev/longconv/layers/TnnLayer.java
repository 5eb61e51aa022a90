package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * tnn-pytorch's {@code TnnLayer} (Doraemonzzz/tnn-pytorch, {@code tnn_pytorch/tnn_layer.py}), one block of a TNN,
 * on x [B, L, dim]:
 * <pre>
 *   prenorm (default):  x = x + token_mixer(token_norm(x));   y = x + feature_mixer(feature_norm(x))
 *   postnorm:           x = x + token_norm(token_mixer(x));   y = x + feature_norm(feature_mixer(x))
 * </pre>
 * token_mixer is a {@link Gtu} (embed_dim = dim, act_fun = gtu_act, the layer's norm_type, causal, expand_ratio,
 * use_decay, gamma, rpe_embedding, rpe_act, rpe_layers; upstream's defaults otherwise), feature_mixer a {@link Glu}
 * (d1 = dim, d2 = glu_dim, act_fun = glu_act), the norms norm_type over dim.
 *
 * <p>state_dict (upstream's names): token_mixer.* (Gtu's), token_norm.*, feature_norm.*, feature_mixer.l1/l2/l3.*.
 * Hyperparameters for {@link #load} (TnnLayer's argument names): dim, num_heads, rpe_embedding, glu_dim (required),
 * prenorm (true), norm_type ("simplermsnorm"), causal (false), gtu_act ("silu"), expand_ratio (3), use_decay (false),
 * gamma (0.999), rpe_act ("relu"), rpe_layers (3), glu_act ("silu").
 */
public final class TnnLayer implements Layer {
    public static final String NAME = "tnn-layer";

    /** Hyperparameters; see the class comment. */
    public record Config(int dim, int numHeads, int rpeEmbedding, int gluDim, boolean prenorm, NormType normType, boolean causal,
                         Activation gtuAct, double expandRatio, boolean useDecay, double gamma, Activation rpeAct, int rpeLayers,
                         Activation gluAct) {
        public Config {
            if (dim < 1 || gluDim < 1) throw new LongConvException(NAME, "config", "dim, glu_dim >= 1", "dim=" + dim + " glu_dim=" + gluDim);
        }

        /** Upstream's defaults for everything but the sizes. */
        public static Config defaults(int dim, int numHeads, int rpeEmbedding, int gluDim) {
            return new Config(dim, numHeads, rpeEmbedding, gluDim, true, NormType.SIMPLE_RMS, false, Activation.SILU, 3, false, 0.999,
                    Activation.RELU, 3, Activation.SILU);
        }

        /** The token mixer as TnnLayer builds it. */
        public Gtu.Config gtu() {
            Gtu.Config d = Gtu.Config.defaults(dim, numHeads);
            return new Gtu.Config(dim, numHeads, d.bias(), gtuAct, causal, expandRatio, d.useNorm(), normType, useDecay, d.useMultiDecay(),
                    rpeLayers, rpeEmbedding, rpeAct, d.normalize(), d.parType(), d.residual(), gamma, d.actType());
        }

        public Glu.Config glu() {
            return new Glu.Config(dim, gluDim, gluAct, Activation.NONE, true);
        }

        static Config parse(TnoHyperparameters p) {
            return new Config(p.integer("dim"), p.integer("num_heads"), p.integer("rpe_embedding"), p.integer("glu_dim"), p.flag("prenorm", true),
                    p.norm("norm_type", "simplermsnorm"), p.flag("causal", false), p.activation("gtu_act", "silu"), p.real("expand_ratio", 3),
                    p.flag("use_decay", false), p.real("gamma", 0.999), p.activation("rpe_act", "relu"), p.integer("rpe_layers", 3),
                    p.activation("glu_act", "silu"));
        }
    }

    static final String MIXER = "token_mixer.", TOKEN_NORM = "token_norm.", FEATURE_NORM = "feature_norm.", FEATURES = "feature_mixer.";

    private final Config config;
    private final Map<String, Tensor> params;
    private final Gtu gtu;
    private final Glu glu;
    private final Norm tokenNorm, featureNorm;

    /** A layer from its config and state_dict (tensors kept, not copied). */
    public TnnLayer(Config config, Map<String, Tensor> stateDict) {
        this.config = config;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.params = Collections.unmodifiableMap(p);
        this.gtu = new Gtu(config.gtu(), Blocks.strip(p, MIXER));
        this.glu = new Glu(config.glu(), FEATURES, p);
        this.tokenNorm = Blocks.norm(NAME, config.normType, config.dim, TOKEN_NORM, p);
        this.featureNorm = Blocks.norm(NAME, config.normType, config.dim, FEATURE_NORM, p);
    }

    public static TnnLayer load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides));
        return new TnnLayer(c, Tno.fetch(w, shapes(c)));
    }

    /** state_dict names and shapes, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        Gtu.shapes(c.gtu()).forEach((n, sh) -> s.put(MIXER + n, sh));
        Blocks.putNormShapes(s, c.normType, c.dim, TOKEN_NORM);
        Blocks.putNormShapes(s, c.normType, c.dim, FEATURE_NORM);
        s.putAll(Glu.shapes(c.glu(), FEATURES));
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

    private int[] check(Tensor x, String arg) {
        if (x == null || x.rank() != 3 || x.dim(2) != config.dim || x.dim(0) < 1 || x.dim(1) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[B, L>=1, dim=" + config.dim + "] float32 or float64", x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), Math.toIntExact(x.dim(1))};
    }

    /** token_mixer on rows [B·L, dim] as a [B, L, dim] tensor of dtype dt. */
    private double[] mixTokens(Backend be, double[] v, int[] s, DType dt) {
        try (Tensor t = TnoTensors.write(v, dt, s[0], s[1], config.dim); Tensor y = gtu.forward(be, t)) {
            return TnoTensors.read(y);
        }
    }

    /** token_mixer's vector-Jacobian product at v for g; its gradients go to grads (prefixed). */
    private double[] mixTokensBackward(Backend be, double[] v, double[] g, int[] s, DType dt, Map<String, double[]> grads) {
        try (Tensor t = TnoTensors.write(v, dt, s[0], s[1], config.dim); Tensor gt = TnoTensors.write(g, dt, s[0], s[1], config.dim);
             LayerGrads lg = gtu.backward(be, t, gt)) {
            Blocks.collect(lg, MIXER, grads);
            return TnoTensors.read(lg.dx());
        }
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = check(x, "x");
        int rows = s[0] * s[1];
        DType dt = x.dtype();
        double[] h = TnoTensors.read(x), x1 = new double[h.length], y = new double[h.length];
        double[] t = config.prenorm ? mixTokens(backend, Blocks.normRows(tokenNorm, h, rows), s, dt)
                : Blocks.normRows(tokenNorm, mixTokens(backend, h, s, dt), rows);
        for (int i = 0; i < h.length; i++) x1[i] = h[i] + t[i];
        double[] f = config.prenorm ? glu.run(backend, dt, Blocks.normRows(featureNorm, x1, rows), rows).y()
                : Blocks.normRows(featureNorm, glu.run(backend, dt, x1, rows).y(), rows);
        for (int i = 0; i < h.length; i++) y[i] = x1[i] + f[i];
        return TnoTensors.write(y, dt, x.shape());
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int[] s = check(x, "x");
        if (gy == null || !Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy == null ? "null" : gy.dtype() + Arrays.toString(gy.shape()));
        }
        int rows = s[0] * s[1];
        DType dt = x.dtype();
        double[] h = TnoTensors.read(x), g = TnoTensors.read(gy), x1 = new double[h.length];
        Map<String, double[]> grads = new LinkedHashMap<>();
        // Recompute the forward's first half: x1 = x + token branch.
        double[] n1 = config.prenorm ? Blocks.normRows(tokenNorm, h, rows) : null;
        double[] m = mixTokens(backend, config.prenorm ? n1 : h, s, dt);
        double[] t = config.prenorm ? m : Blocks.normRows(tokenNorm, m, rows);
        for (int i = 0; i < h.length; i++) x1[i] = h[i] + t[i];
        // Feature branch: y = x1 + F(x1).
        double[] dx1;
        if (config.prenorm) {
            double[] n2 = Blocks.normRows(featureNorm, x1, rows);
            double[] dn2 = glu.backward(backend, dt, n2, rows, g, grads);
            dx1 = Blocks.normRowsBackward(featureNorm, x1, dn2, rows, FEATURE_NORM, grads);
        } else {
            double[] f = glu.run(backend, dt, x1, rows).y();
            double[] df = Blocks.normRowsBackward(featureNorm, f, g, rows, FEATURE_NORM, grads);
            dx1 = glu.backward(backend, dt, x1, rows, df, grads);
        }
        for (int i = 0; i < dx1.length; i++) dx1[i] += g[i];
        // Token branch: x1 = x + T(x).
        double[] dx;
        if (config.prenorm) {
            double[] dn1 = mixTokensBackward(backend, n1, dx1, s, dt, grads);
            dx = Blocks.normRowsBackward(tokenNorm, h, dn1, rows, TOKEN_NORM, grads);
        } else {
            double[] dm = Blocks.normRowsBackward(tokenNorm, m, dx1, rows, TOKEN_NORM, grads);
            dx = mixTokensBackward(backend, h, dm, s, dt, grads);
        }
        for (int i = 0; i < dx.length; i++) dx[i] += dx1[i];
        return Blocks.grads(dx, x, grads, params);
    }
}
