package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * tnn-pytorch's relative position encoder: an MLP from one scalar position to {@code outdim} values.
 * <pre>
 *   h = pos_proj(p)                                  Linear(1, dim)
 *   for each of the {@code layers} blocks:  h = block(h)  (+ h when residual)
 *       block = [norm(dim), act, Linear(dim, dim)]  state_dict layers.i.0.*, layers.i.2.*
 *   out = [norm(dim), act, Linear(dim, outdim)](h)  state_dict out.0.*, out.2.*
 * </pre>
 * All Linear layers have a bias when {@code bias} is true. It is evaluated in float64 over all positions
 * at once; the Linear layers go through the backend's GEMM.
 */
public final class Rpe {
    /** Hyperparameters, named after Rpe's constructor arguments (dim, outdim, residual, act, bias, layers, norm_type). */
    public record Config(int dim, int outdim, boolean residual, Activation act, boolean bias, int layers, NormType normType) {
        public Config {
            if (dim < 1 || outdim < 1 || layers < 0) {
                throw new LongConvException("rpe", "config", "dim >= 1, outdim >= 1, layers >= 0",
                        "dim=" + dim + " outdim=" + outdim + " layers=" + layers);
            }
        }
    }

    private final Config config;
    private final String prefix;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final List<Norm> norms = new ArrayList<>(); // blocks, then out

    /** Takes this encoder's tensors ({@code prefix} + relative state_dict name) from {@code all}, checking shapes. */
    Rpe(String layer, Config config, String prefix, Map<String, Tensor> all) {
        this.config = config;
        this.prefix = prefix;
        shapes(config, prefix).forEach((name, shape) -> params.put(name, TnoTensors.require(layer, all, name, shape)));
        for (int i = 0; i <= config.layers; i++) {
            String np = normPrefix(i);
            List<Tensor> ps = config.normType.parameterNames().stream().map(n -> params.get(np + n)).toList();
            norms.add(new Norm(config.normType, config.dim, ps));
        }
    }

    public Config config() {
        return config;
    }

    /** The state_dict names and shapes of an encoder with this config under {@code prefix}, in registration order. */
    public static Map<String, long[]> shapes(Config c, String prefix) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(prefix + "pos_proj.weight", new long[] {c.dim, 1});
        if (c.bias) s.put(prefix + "pos_proj.bias", new long[] {c.dim});
        for (int i = 0; i <= c.layers; i++) {
            String block = i < c.layers ? prefix + "layers." + i + "." : prefix + "out.";
            for (String n : c.normType.parameterNames()) s.put(block + "0." + n, c.normType.parameterShape(n, c.dim));
            int out = i < c.layers ? c.dim : c.outdim;
            s.put(block + "2.weight", new long[] {out, c.dim});
            if (c.bias) s.put(block + "2.bias", new long[] {out});
        }
        return s;
    }

    /** This encoder's live parameters by full state_dict name. */
    Map<String, Tensor> parameters() {
        return params;
    }

    private String blockPrefix(int i) {
        return i < config.layers ? prefix + "layers." + i + "." : prefix + "out.";
    }

    private String normPrefix(int i) {
        return blockPrefix(i) + "0.";
    }

    private double[] value(String name) {
        Tensor t = params.get(name);
        return t == null ? null : TnoTensors.read(t);
    }

    /** What the backward pass needs: the positions and the input of every block (the last one is out's). */
    record Pass(double[] positions, double[][] blockInputs, double[] output) {}

    /** The encoder at every position: [M, outdim] row-major. Keeps the block inputs when {@code forBackward}. */
    Pass forward(Backend be, DType dtype, double[] positions, boolean forBackward) {
        int m = positions.length, dim = config.dim;
        double[] h = TnoTensors.linear(be, dtype, positions, m, 1, value(prefix + "pos_proj.weight"), dim, value(prefix + "pos_proj.bias"));
        double[][] inputs = forBackward ? new double[config.layers + 1][] : null;
        for (int i = 0; i <= config.layers; i++) {
            if (forBackward) inputs[i] = h;
            double[] a = normAct(norms.get(i).bind(), h, m);
            int out = i < config.layers ? dim : config.outdim;
            double[] y = TnoTensors.linear(be, dtype, a, m, dim, value(blockPrefix(i) + "2.weight"), out, value(blockPrefix(i) + "2.bias"));
            if (i < config.layers && config.residual) for (int j = 0; j < y.length; j++) y[j] += h[j];
            h = y;
        }
        return new Pass(positions, inputs, h);
    }

    /**
     * The encoder at every position in float32 from end to end, for float32 layers' forward passes: [M, outdim], a new
     * tensor in {@code arena}. Three [M, dim] buffers serve every block (h, its norm and activation, the Linear's
     * output, which becomes the next h), so a pass allocates and zeroes five tensors whatever the depth (with the
     * positions and the output). Each step goes over all M rows in one call: the norm on float lanes where it can
     * ({@link Norm.Bound#forwardFloat}), the activation and the Linear's bias on float lanes ({@link FloatRows}), the
     * GEMM writing in place. Against {@link #forward} in float32 it differs by the roundings of h to float32 between the
     * steps (a few ulps).
     */
    Tensor forwardFloat32(Backend be, Arena arena, double[] positions) {
        int m = positions.length, dim = config.dim;
        Tensor h = Tensor.zeros(arena, DType.FLOAT32, m, dim), a = Tensor.zeros(arena, DType.FLOAT32, m, dim);
        Tensor spare = config.layers > 0 ? Tensor.zeros(arena, DType.FLOAT32, m, dim) : null;
        MemorySegment hs = h.segment(), as = a.segment();
        // pos_proj, Linear(1, dim): the positions [M, 1] times its weight [dim, 1] transposed, as a GEMM of depth 1
        // (lane stores over [M, dim]), then its bias on lanes
        Tensor pos = Tensor.zeros(arena, DType.FLOAT32, m, 1);
        MemorySegment ps = pos.segment();
        for (int i = 0; i < m; i++) ps.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) positions[i]);
        try (Tensor w = TnoTensors.inDtype(params.get(prefix + "pos_proj.weight"), DType.FLOAT32)) {
            be.gemmInto(pos, w, false, true, h);
        }
        Tensor pb = params.get(prefix + "pos_proj.bias");
        if (pb != null) FloatRows.biasActivation(Activation.NONE, m, dim, hs, 0, dim, pb.toFloatArray(), null, 0, 0, hs, 0, dim);
        float[] scratch = Norm.floatScratch();
        for (int i = 0; i <= config.layers; i++) {
            norms.get(i).bind().forwardFloat(hs, 0, as, 0, m, scratch);
            FloatRows.biasActivation(config.act, m, dim, as, 0, dim, null, null, 0, 0, as, 0, dim);
            int out = i < config.layers ? dim : config.outdim;
            Tensor y = i < config.layers ? spare : Tensor.zeros(arena, DType.FLOAT32, m, out);
            try (Tensor wt = TnoTensors.inDtype(params.get(blockPrefix(i) + "2.weight"), DType.FLOAT32)) {
                be.gemmInto(a, wt, false, true, y);
            }
            MemorySegment ys = y.segment();
            Tensor bt = params.get(blockPrefix(i) + "2.bias");
            if (bt != null) FloatRows.biasActivation(Activation.NONE, m, out, ys, 0, out, bt.toFloatArray(), null, 0, 0, ys, 0, out);
            if (i < config.layers && config.residual) {
                for (long j = 0, n = (long) m * dim; j < n; j++) ys.setAtIndex(ValueLayout.JAVA_FLOAT, j, ys.getAtIndex(ValueLayout.JAVA_FLOAT, j) + hs.getAtIndex(ValueLayout.JAVA_FLOAT, j));
            }
            spare = h;
            h = y;
            hs = ys;
        }
        return h;
    }

    private double[] normAct(Norm.Bound norm, double[] h, int m) {
        int dim = config.dim;
        double[] a = new double[h.length];
        for (int r = 0; r < m; r++) norm.forward(h, r * dim, a, r * dim);
        config.act.applyAll(a, a);
        return a;
    }

    /**
     * Gradients of sum(gout ⊙ output) for every parameter, by full state_dict name, each as a C-order
     * array of the parameter's shape. {@code gout} is [M, outdim] row-major.
     */
    Map<String, double[]> backward(Backend be, DType dtype, Pass pass, double[] gout) {
        int m = pass.positions.length, dim = config.dim;
        Map<String, double[]> grads = new LinkedHashMap<>();
        double[] g = gout;
        for (int i = config.layers; i >= 0; i--) {
            double[] h = pass.blockInputs[i];
            Norm.Bound norm = norms.get(i).bind();
            double[] n = new double[h.length];
            for (int r = 0; r < m; r++) norm.forward(h, r * dim, n, r * dim);
            double[] a = new double[n.length];
            config.act.applyAll(n, a);
            int out = i < config.layers ? dim : config.outdim;
            String bp = blockPrefix(i);
            double[] w = value(bp + "2.weight");
            grads.put(bp + "2.weight", TnoTensors.gemm(be, dtype, g, m, out, true, a, m, dim, false));
            if (config.bias) grads.put(bp + "2.bias", TnoTensors.columnSums(g, m, out));
            double[] ga = TnoTensors.gemm(be, dtype, g, m, out, false, w, out, dim, false);
            for (int j = 0; j < ga.length; j++) ga[j] *= config.act.derivative(n[j]);
            double[][] gp = norm.newGradients();
            double[] gh = new double[h.length];
            for (int r = 0; r < m; r++) norm.backward(h, r * dim, ga, r * dim, gh, r * dim, gp);
            List<String> names = config.normType.parameterNames();
            for (int p = 0; p < names.size(); p++) grads.put(normPrefix(i) + names.get(p), gp[p]);
            if (i < config.layers && config.residual) for (int j = 0; j < gh.length; j++) gh[j] += g[j];
            g = gh;
        }
        double[] gw = new double[dim];
        for (int r = 0; r < m; r++) for (int j = 0; j < dim; j++) gw[j] += g[r * dim + j] * pass.positions[r];
        grads.put(prefix + "pos_proj.weight", gw);
        if (config.bias) grads.put(prefix + "pos_proj.bias", TnoTensors.columnSums(g, m, dim));
        return grads;
    }
}
