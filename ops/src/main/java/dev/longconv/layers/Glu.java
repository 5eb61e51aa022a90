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
 * tnn-pytorch's {@code GLU} (Doraemonzzz/tnn-pytorch, {@code tnn_pytorch/glu.py}), the feature mixer of its
 * TnnLayer, on x [..., d1] (any leading axes, usually [B, L, d1]):
 * <pre>
 *   y = fina_act( l3( act_fun(l1 x) ⊙ l2 x ) )      l1, l2 = Linear(d1, d2), l3 = Linear(d2, d1)
 * </pre>
 * Upstream's dropout acts only in training; this is the inference (eval) forward and its gradient. The Linear
 * layers are backend GEMMs in x's dtype; the elementwise steps run in double.
 *
 * <p>state_dict: l1.weight [d2, d1], l1.bias, l2.weight [d2, d1], l2.bias, l3.weight [d1, d2], l3.bias (biases
 * when bias). Hyperparameters for {@link #load} (GLU's argument names): d1, d2, act_fun (required), fina_act
 * ("None", the identity), bias (true), dropout (ignored).
 */
public final class Glu implements Layer {
    public static final String NAME = "glu";

    /** Hyperparameters; see the class comment. */
    public record Config(int d1, int d2, Activation actFun, Activation finaAct, boolean bias) {
        public Config {
            if (d1 < 1 || d2 < 1) throw new LongConvException(NAME, "config", "d1, d2 >= 1", "d1=" + d1 + " d2=" + d2);
            if (actFun == null || finaAct == null) throw new LongConvException(NAME, "act_fun", "an activation", "null");
        }

        static Config parse(TnoHyperparameters p) {
            return new Config(p.integer("d1"), p.integer("d2"), p.activation("act_fun", p.requiredString("act_fun")),
                    p.activation("fina_act", "None"), p.flag("bias", true));
        }
    }

    private final Config config;
    private final String prefix;
    private final Map<String, Tensor> params;

    public Glu(Config config, Map<String, Tensor> stateDict) {
        this(config, "", stateDict);
    }

    /** The GLU of a larger module whose parameters are named {@code prefix} + these names ("feature_mixer." in TnnLayer). */
    Glu(Config config, String prefix, Map<String, Tensor> stateDict) {
        this.config = config;
        this.prefix = prefix;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config, prefix).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        this.params = Collections.unmodifiableMap(p);
    }

    public static Glu load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides));
        return new Glu(c, Tno.fetch(w, shapes(c, "")));
    }

    /** state_dict names and shapes under {@code prefix}, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c, String prefix) {
        Map<String, long[]> s = new LinkedHashMap<>();
        for (String l : new String[] {"l1", "l2", "l3"}) {
            boolean back = l.equals("l3");
            s.put(prefix + l + ".weight", back ? new long[] {c.d1, c.d2} : new long[] {c.d2, c.d1});
            if (c.bias) s.put(prefix + l + ".bias", new long[] {back ? c.d1 : c.d2});
        }
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

    private double[] value(String name) {
        Tensor t = params.get(prefix + name);
        return t == null ? null : TnoTensors.read(t);
    }

    /** The values of one forward pass over rows [n, ·]. */
    record Pass(double[] o1, double[] o2, double[] p, double[] z, double[] y) {}

    Pass run(Backend be, DType dt, double[] x, int rows) {
        int d1 = config.d1, d2 = config.d2;
        double[] o1 = TnoTensors.linear(be, dt, x, rows, d1, value("l1.weight"), d2, value("l1.bias"));
        double[] o2 = TnoTensors.linear(be, dt, x, rows, d1, value("l2.weight"), d2, value("l2.bias"));
        double[] p = new double[o1.length];
        for (int i = 0; i < p.length; i++) p[i] = config.actFun.apply(o1[i]) * o2[i];
        double[] z = TnoTensors.linear(be, dt, p, rows, d2, value("l3.weight"), d1, value("l3.bias"));
        double[] y = new double[z.length];
        for (int i = 0; i < y.length; i++) y[i] = config.finaAct.apply(z[i]);
        return new Pass(o1, o2, p, z, y);
    }

    /** dx [rows, d1] for gy [rows, d1]; parameter gradients (full names) added to {@code grads}. */
    double[] backward(Backend be, DType dt, double[] x, int rows, double[] gy, Map<String, double[]> grads) {
        int d1 = config.d1, d2 = config.d2;
        Pass f = run(be, dt, x, rows);
        double[] gz = new double[gy.length];
        for (int i = 0; i < gz.length; i++) gz[i] = gy[i] * config.finaAct.derivative(f.z[i]);
        grads.put(prefix + "l3.weight", TnoTensors.gemm(be, dt, gz, rows, d1, true, f.p, rows, d2, false));
        if (config.bias) grads.put(prefix + "l3.bias", TnoTensors.columnSums(gz, rows, d1));
        double[] gp = TnoTensors.gemm(be, dt, gz, rows, d1, false, value("l3.weight"), d1, d2, false);
        double[] g1 = new double[gp.length], g2 = new double[gp.length];
        for (int i = 0; i < gp.length; i++) {
            g1[i] = gp[i] * f.o2[i] * config.actFun.derivative(f.o1[i]);
            g2[i] = gp[i] * config.actFun.apply(f.o1[i]);
        }
        grads.put(prefix + "l1.weight", TnoTensors.gemm(be, dt, g1, rows, d2, true, x, rows, d1, false));
        if (config.bias) grads.put(prefix + "l1.bias", TnoTensors.columnSums(g1, rows, d2));
        grads.put(prefix + "l2.weight", TnoTensors.gemm(be, dt, g2, rows, d2, true, x, rows, d1, false));
        if (config.bias) grads.put(prefix + "l2.bias", TnoTensors.columnSums(g2, rows, d2));
        double[] dx = TnoTensors.gemm(be, dt, g1, rows, d2, false, value("l1.weight"), d2, d1, false);
        double[] dx2 = TnoTensors.gemm(be, dt, g2, rows, d2, false, value("l2.weight"), d2, d1, false);
        for (int i = 0; i < dx.length; i++) dx[i] += dx2[i];
        return dx;
    }

    private int check(Tensor x, String arg) {
        if (x == null || x.rank() < 1 || x.dim(x.rank() - 1) != config.d1 || x.numel() == 0
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[..., d1=" + config.d1 + "] float32 or float64", x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return Math.toIntExact(x.numel() / config.d1);
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int rows = check(x, "x");
        return TnoTensors.write(run(backend, x.dtype(), TnoTensors.read(x), rows).y, x.dtype(), x.shape());
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int rows = check(x, "x");
        if (gy == null || !Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy == null ? "null" : gy.dtype() + Arrays.toString(gy.shape()));
        }
        Map<String, double[]> grads = new LinkedHashMap<>();
        double[] dx = backward(backend, x.dtype(), TnoTensors.read(x), rows, TnoTensors.read(gy), grads);
        return Blocks.grads(dx, x, grads, params);
    }
}
