package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * flash-stu's {@code STULayer} (windsornguyen/flash-stu, {@code flash_stu/layers/stu_layer.py}), one STU block, on
 * x [B, L, D] with D = n_embd:
 * <pre>
 *   x = x + stu(stu_norm(x));   y = x + mlp(mlp_norm(x))
 *   mlp(z) = down_proj( gelu_tanh(gate_proj z) ⊙ up_proj z )     gate, up = Linear(D, I), down = Linear(I, D), I = D·mlp_scale
 * </pre>
 * stu is a {@link Stu}, the norms torch.nn.RMSNorm(D) ({@link TorchRmsNorm}: eps = the dtype's machine epsilon),
 * gelu_tanh is F.gelu(approximate="tanh"). That is flash-stu without Liger-Kernel; with it installed flash-stu
 * builds LigerRMSNorm (eps 1e-6) and LigerSwiGLUMLP (silu instead of gelu_tanh): set norm_eps=1e-6 and
 * mlp_act=silu for such a model. Dropout acts only in training; this is the inference forward and its gradient.
 *
 * <p>state_dict (flash-stu's names): stu_norm.weight [D], stu.* ({@link Stu}'s: M_inputs, M_filters or
 * M_phi_plus, M_phi_minus; stu.phi [L, K] when the file carries the filters), mlp_norm.weight [D],
 * mlp.gate_proj.weight [I, D], mlp.up_proj.weight [I, D], mlp.down_proj.weight [D, I] (and their .bias with
 * bias). Hyperparameters for {@link #load}: Stu's (seq_len, num_eigh, use_approx, use_hankel_L), mlp_act
 * ("gelu_tanh" or "silu"), norm_eps (the dtype's epsilon); n_embd, mlp_scale and bias follow from the tensors.
 */
public final class StuLayer implements Layer {
    public static final String NAME = "stu-layer";

    /** The MLP's gate activation. */
    public enum GateActivation {
        /** F.gelu(x, approximate="tanh"): x/2 (1 + tanh(√(2/π) (x + 0.044715 x³))), flash-stu's MLP. */
        GELU_TANH,
        /** x σ(x), Liger-Kernel's SwiGLU MLP. */
        SILU;

        private static final double C = 0.7978845608028654; // √(2/π)
        private static final double A = 0.044715;

        double apply(double x) {
            if (this == SILU) return Activation.SILU.apply(x);
            return 0.5 * x * (1 + Math.tanh(C * (x + A * x * x * x)));
        }

        double derivative(double x) {
            if (this == SILU) return Activation.SILU.derivative(x);
            double t = Math.tanh(C * (x + A * x * x * x));
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * A * x * x);
        }

        static GateActivation parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "gelu_tanh", "gelu-tanh" -> GELU_TANH;
                case "silu", "swish" -> SILU;
                default -> throw new LongConvException(NAME, "mlp_act", "gelu_tanh (flash-stu's MLP) or silu (Liger's SwiGLU)", "'" + s + "'");
            };
        }
    }

    /** The block's own hyperparameters: D, the MLP width I, biases, the gate and the norms' eps (NaN: the dtype's). */
    public record Config(int nEmbd, int hidden, boolean bias, GateActivation mlpAct, double normEps) {
        public Config {
            if (nEmbd < 1 || hidden < 1) throw new LongConvException(NAME, "config", "n_embd, intermediate size >= 1", "n_embd=" + nEmbd + " I=" + hidden);
            if (mlpAct == null) throw new LongConvException(NAME, "mlp_act", "an activation", "null");
        }
    }

    static final String STU = "stu.";

    private final Config config;
    private final Stu stu;
    private final Map<String, Tensor> params;
    private final TorchRmsNorm norm;

    /**
     * A block from its parts: the Stu (its parameters by its own names) and the block's own tensors by flash-stu's
     * names (stu_norm.weight, mlp_norm.weight, mlp.*); everything stays owned by the caller.
     */
    public StuLayer(Config config, Stu stu, Map<String, Tensor> own) {
        this.config = config;
        this.stu = stu;
        Map<String, Tensor> p = new LinkedHashMap<>();
        int d = config.nEmbd, h = config.hidden;
        p.put("stu_norm.weight", TnoTensors.require(NAME, own, "stu_norm.weight", d));
        stu.parameters().forEach((n, t) -> p.put(STU + n, t));
        p.put("mlp_norm.weight", TnoTensors.require(NAME, own, "mlp_norm.weight", d));
        for (String proj : new String[] {"gate_proj", "up_proj", "down_proj"}) {
            boolean down = proj.equals("down_proj");
            p.put("mlp." + proj + ".weight", TnoTensors.require(NAME, own, "mlp." + proj + ".weight", down ? new long[] {d, h} : new long[] {h, d}));
            if (config.bias) p.put("mlp." + proj + ".bias", TnoTensors.require(NAME, own, "mlp." + proj + ".bias", down ? d : h));
        }
        this.params = Collections.unmodifiableMap(p);
        this.norm = new TorchRmsNorm(d, config.normEps);
    }

    /** A block from flash-stu's state_dict (optionally with stu.phi); see the class comment for the hyperparameters. */
    public static StuLayer load(Weights w, Map<String, String> overrides) {
        Map<String, String> meta = new HashMap<>(w.metadata());
        meta.putAll(overrides);
        Stu stu = Stu.load(Blocks.strip(w, STU), overrides);
        Tensor gate = w.get(NAME, "mlp.gate_proj.weight", -1, -1);
        int d = (int) gate.dim(1), h = (int) gate.dim(0);
        if (meta.containsKey("n_embd") && Hyper.integer(NAME, meta, "n_embd") != d) {
            throw new LongConvException(NAME, "n_embd", "the width of mlp.gate_proj.weight, " + d, meta.get("n_embd"));
        }
        Config c = new Config(d, h, w.has("mlp.gate_proj.bias"), GateActivation.parse(meta.getOrDefault("mlp_act", "gelu_tanh")),
                meta.containsKey("norm_eps") ? Hyper.real(NAME, meta, "norm_eps") : Double.NaN);
        Map<String, Tensor> own = new LinkedHashMap<>();
        for (String n : w.names()) if (!n.startsWith(STU)) own.put(n, w.tensor(n));
        return new StuLayer(c, stu, own);
    }

    public Config config() {
        return config;
    }

    public Stu stu() {
        return stu;
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
        Tensor t = params.get(name);
        return t == null ? null : TnoTensors.read(t);
    }

    private int check(Tensor x, String arg) {
        if (x == null || x.rank() != 3 || x.dim(2) != config.nEmbd || x.dim(0) < 1 || x.dim(1) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[B, L>=1, n_embd=" + config.nEmbd + "] float32 or float64", x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return Math.toIntExact(x.dim(0) * x.dim(1));
    }

    private double[] stuForward(Backend be, double[] n, Tensor like) {
        try (Tensor t = TnoTensors.write(n, like.dtype(), like.shape()); Tensor y = stu.forward(be, t)) {
            return TnoTensors.read(y);
        }
    }

    /** The MLP's intermediate values over rows [n, D]. */
    private record Mlp(double[] gate, double[] up, double[] h, double[] out) {}

    private Mlp mlp(Backend be, DType dt, double[] z, int rows) {
        int d = config.nEmbd, hid = config.hidden;
        double[] gate = TnoTensors.linear(be, dt, z, rows, d, value("mlp.gate_proj.weight"), hid, value("mlp.gate_proj.bias"));
        double[] up = TnoTensors.linear(be, dt, z, rows, d, value("mlp.up_proj.weight"), hid, value("mlp.up_proj.bias"));
        double[] h = new double[gate.length];
        for (int i = 0; i < h.length; i++) h[i] = config.mlpAct.apply(gate[i]) * up[i];
        return new Mlp(gate, up, h, TnoTensors.linear(be, dt, h, rows, hid, value("mlp.down_proj.weight"), d, value("mlp.down_proj.bias")));
    }

    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int rows = check(x, "x");
        DType dt = x.dtype();
        double[] h = TnoTensors.read(x), x1 = new double[h.length];
        double[] s = stuForward(backend, norm.forward(h, value("stu_norm.weight"), dt), x);
        for (int i = 0; i < h.length; i++) x1[i] = h[i] + s[i];
        double[] m = mlp(backend, dt, norm.forward(x1, value("mlp_norm.weight"), dt), rows).out();
        for (int i = 0; i < h.length; i++) x1[i] += m[i];
        return TnoTensors.write(x1, dt, x.shape());
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int rows = check(x, "x");
        if (gy == null || !Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy == null ? "null" : gy.dtype() + Arrays.toString(gy.shape()));
        }
        DType dt = x.dtype();
        int d = config.nEmbd, hid = config.hidden;
        double[] h = TnoTensors.read(x), g = TnoTensors.read(gy), w1 = value("stu_norm.weight"), w2 = value("mlp_norm.weight");
        double[] n1 = norm.forward(h, w1, dt), s = stuForward(backend, n1, x), x1 = new double[h.length];
        for (int i = 0; i < h.length; i++) x1[i] = h[i] + s[i];
        double[] n2 = norm.forward(x1, w2, dt);
        Mlp f = mlp(backend, dt, n2, rows);
        Map<String, double[]> grads = new LinkedHashMap<>();
        // MLP: out = h Wd^T (+ bd), h = act(gate) ⊙ up.
        grads.put("mlp.down_proj.weight", TnoTensors.gemm(backend, dt, g, rows, d, true, f.h(), rows, hid, false));
        if (config.bias) grads.put("mlp.down_proj.bias", TnoTensors.columnSums(g, rows, d));
        double[] gh = TnoTensors.gemm(backend, dt, g, rows, d, false, value("mlp.down_proj.weight"), d, hid, false);
        double[] gg = new double[gh.length], gu = new double[gh.length];
        for (int i = 0; i < gh.length; i++) {
            gg[i] = gh[i] * f.up()[i] * config.mlpAct.derivative(f.gate()[i]);
            gu[i] = gh[i] * config.mlpAct.apply(f.gate()[i]);
        }
        grads.put("mlp.gate_proj.weight", TnoTensors.gemm(backend, dt, gg, rows, hid, true, n2, rows, d, false));
        if (config.bias) grads.put("mlp.gate_proj.bias", TnoTensors.columnSums(gg, rows, hid));
        grads.put("mlp.up_proj.weight", TnoTensors.gemm(backend, dt, gu, rows, hid, true, n2, rows, d, false));
        if (config.bias) grads.put("mlp.up_proj.bias", TnoTensors.columnSums(gu, rows, hid));
        double[] dn2 = TnoTensors.gemm(backend, dt, gg, rows, hid, false, value("mlp.gate_proj.weight"), hid, d, false);
        double[] dn2u = TnoTensors.gemm(backend, dt, gu, rows, hid, false, value("mlp.up_proj.weight"), hid, d, false);
        for (int i = 0; i < dn2.length; i++) dn2[i] += dn2u[i];
        double[] gw2 = new double[d], gw1 = new double[d];
        double[] dx1 = norm.backward(x1, w2, dn2, gw2, dt);
        grads.put("mlp_norm.weight", gw2);
        for (int i = 0; i < dx1.length; i++) dx1[i] += g[i];
        // STU branch: x1 = x + stu(n1).
        double[] dn1;
        try (Tensor nt = TnoTensors.write(n1, dt, x.shape()); Tensor gt = TnoTensors.write(dx1, dt, x.shape()); LayerGrads sg = stu.backward(backend, nt, gt)) {
            Blocks.collect(sg, STU, grads);
            dn1 = TnoTensors.read(sg.dx());
        }
        double[] dx = norm.backward(h, w1, dn1, gw1, dt);
        grads.put("stu_norm.weight", gw1);
        for (int i = 0; i < dx.length; i++) dx[i] += dx1[i];
        return Blocks.grads(dx, x, grads, params);
    }
}
