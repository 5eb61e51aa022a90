package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.spi.BiasedGemm;
import dev.longconv.ops.spi.HostTasks;

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
     * output, which becomes the next h), so a pass allocates five tensors whatever the depth (with the positions and the
     * output), unfilled in a scratch arena ({@link ScratchArena#unfilled}). Each step goes over a run of rows in one
     * call: the norm on float lanes where it can ({@link Norm.Bound#forwardFloat}, which also takes a ReLU after it), the
     * activation on float lanes ({@link FloatRows}), the GEMM writing in place with the Linear's bias added in its kernel
     * where the backend offers that ({@link FloatRows#linearInto}). With ReLU and a norm on lanes, where the backend
     * offers {@link BiasedGemm}, the norm writes its rows into a float array that the GEMM reads where they are instead
     * of copying them into its packing buffer ({@link BiasedGemm#gemmRowsInto}; the same bits; 3% of the small TNO's
     * forward). Against {@link #forward} in float32 it differs by the roundings of h to float32 between the steps (a
     * few ulps).
     * <p>
     * Every step works on each row alone, so the rows are split into one run per thread of a backend that offers its
     * pool ({@link HostTasks}) and each run goes through every block on its own: the norms and activations use every
     * core and the threads meet once, not at each of the depth's GEMMs (a TNO at L = 1024, dim 32, four GEMMs of
     * [2047, 32] x [32, 32]: best call 0.53 to 0.45 ms on two cores). A run's GEMMs are the backend's, on the run's
     * thread; the result does not depend on the split (each output row is computed by the same steps).
     * <p>
     * With ReLU and a norm without a shift (tnn-pytorch's defaults), the first block runs without its GEMM, norm and
     * activation ({@link RpeFirstBlock}: its input is a line in the position): a third of a GTU's RPE GEMM at its
     * defaults (the README's Serving a model has the timings).
     */
    Tensor forwardFloat32(Backend be, Arena arena, double[] positions) {
        return forwardFloat32(be, arena, positions, true);
    }

    /** {@link #forwardFloat32}, its first block by pieces ({@link RpeFirstBlock}) where that applies and {@code pieces}. */
    Tensor forwardFloat32(Backend be, Arena arena, double[] positions, boolean pieces) {
        int m = positions.length, dim = config.dim, blocks = config.layers + 1;
        // every step writes its buffer in full before the next reads it
        Tensor h = ScratchArena.unfilled(arena, DType.FLOAT32, m, dim), a = ScratchArena.unfilled(arena, DType.FLOAT32, m, dim);
        Tensor spare = config.layers > 0 ? ScratchArena.unfilled(arena, DType.FLOAT32, m, dim) : null;
        Tensor out = ScratchArena.unfilled(arena, DType.FLOAT32, m, config.outdim), pos = ScratchArena.unfilled(arena, DType.FLOAT32, m, 1);
        MemorySegment ps = pos.segment();
        for (int i = 0; i < m; i++) ps.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) positions[i]);
        Tensor[] weights = new Tensor[blocks + 1]; // the blocks' Linear weights in float32, then pos_proj's
        try {
            Norm.Bound[] bound = new Norm.Bound[blocks];
            float[][] biases = new float[blocks + 1][];
            for (int i = 0; i <= blocks; i++) {
                String linear = i < blocks ? blockPrefix(i) + "2." : prefix + "pos_proj.";
                weights[i] = TnoTensors.inDtype(params.get(linear + "weight"), DType.FLOAT32);
                Tensor bias = params.get(linear + "bias");
                biases[i] = bias == null ? null : bias.toFloatArray();
                if (i < blocks) bound[i] = norms.get(i).bind();
            }
            List<String> normParams = config.normType.parameterNames(); // the scale first (rmsnorm's scale, scalenorm's scala)
            HostTasks pool = be instanceof HostTasks t && anyThread(h, a, spare, out, pos, weights[0]) ? t : null;
            RpeFirstBlock firstBlock = !pieces ? null : RpeFirstBlock.of(config, positions, params.get(prefix + "pos_proj.weight"),
                    params.get(prefix + "pos_proj.bias"), normParams.isEmpty() ? null : params.get(normPrefix(0) + normParams.get(0)), weights[0], pool);
            int parts = pool == null ? 1 : Math.min(pool.hostThreads(), m);
            if (parts == 1) {
                encodeRows(be, pos, h, a, spare, out, weights, biases, bound, firstBlock, 0, m);
            } else {
                double flopsPerRow = 2.0 * dim * (1 + (double) dim * config.layers + config.outdim);
                int align = firstBlock == null ? 1 : RpeFirstBlock.CHECKPOINT;
                pool.forEachHostTask(parts, flopsPerRow * m / parts, part -> encodeRows(be, pos, h, a, spare, out, weights,
                        biases, bound, firstBlock, runStart(m, parts, part, align), runStart(m, parts, part + 1, align)));
            }
        } finally {
            for (Tensor w : weights) if (w != null) w.close();
        }
        return out;
    }

    /**
     * Where run {@code part} of {@code parts} starts among m rows (part = parts gives m): at m part / parts, moved to the
     * nearest multiple of {@code align} when that is within a sixteenth of a run's rows. The first block by pieces
     * starts each run at the checkpoint at or before it and carries its sums through the sign changes up to the run's
     * first row; a run that starts one row short of a checkpoint (a TNO's 2L - 1 positions halved: L - 1) sums them
     * afresh a checkpoint early and carries them through every sign change in between, which at a GTU's defaults cost
     * the second run about a third more time in that block than the first.
     */
    static int runStart(int m, int parts, int part, int align) {
        if (part <= 0) return 0;
        if (part >= parts) return m;
        int even = (int) ((long) m * part / parts), near = (int) Math.min(m, Math.round((double) even / align) * align);
        return Math.abs(near - even) <= m / parts / 16 && near > 0 && near < m ? near : even;
    }

    /** Whether pool threads may read this encoder's parameters and the given buffers (not a confined arena's). */
    private boolean anyThread(Tensor... buffers) {
        for (Tensor t : buffers) if (!HostTasks.anyThread(t)) return false;
        for (Tensor t : params.values()) if (!HostTasks.anyThread(t)) return false;
        return true;
    }

    /**
     * Rows [first, end) through pos_proj and every block: h, a and spare are the [M, dim] buffers, out the [M, outdim]
     * result; weights and biases are the blocks' Linear layers in float32, then pos_proj's.
     */
    private void encodeRows(Backend be, Tensor pos, Tensor h, Tensor a, Tensor spare, Tensor out, Tensor[] weights,
                            float[][] biases, Norm.Bound[] bound, RpeFirstBlock firstBlock, int first, int end) {
        int rows = end - first, dim = config.dim, blocks = bound.length;
        Tensor hr = h.slice(0, first, end), ar = a.slice(0, first, end), sr = spare == null ? null : spare.slice(0, first, end);
        // pos_proj, Linear(1, dim): the positions [rows, 1] times its weight [dim, 1] transposed, as a GEMM of depth 1
        // (lane stores over [rows, dim]), then its bias on lanes; not needed when the first block starts from the
        // positions itself and has no residual to add
        if (firstBlock == null || config.residual) {
            be.gemmInto(pos.slice(0, first, end), weights[blocks], false, true, hr);
            addBias(hr, biases[blocks]);
        }
        float[] scratch = Norm.floatScratch();
        MemorySegment as = ar.storageSegment();
        BiasedGemm rowsGemm = be instanceof BiasedGemm g && config.act == Activation.RELU && (long) rows * dim <= NORMED_ROWS_MAX ? g : null;
        for (int i = 0; i < blocks; i++) {
            MemorySegment hs = hr.storageSegment();
            Tensor y = i < config.layers ? sr : out.slice(0, first, end);
            if (i == 0 && firstBlock != null) {
                firstBlock.rows(first, end, y);
                addBias(y, biases[i]);
            } else if (rowsGemm != null && bound[i].takesFloatRows(hs)) {
                // the norm and its ReLU into rows that the GEMM reads where they are (no copy into its packing buffer)
                float[] normed = normedRows(rows * dim);
                bound[i].forwardFloatRows(hs, hr.offset(), normed, 0, rows, scratch);
                rowsGemm.gemmRowsInto(normed, 0, rows, dim, weights[i], true, biases[i], y);
            } else {
                // the norm's lane loop applies a ReLU itself where it can (one pass over the rows fewer)
                if (!bound[i].forwardFloat(hs, hr.offset(), as, ar.offset(), rows, scratch, config.act == Activation.RELU)) {
                    FloatRows.biasActivation(config.act, rows, dim, as, ar.offset(), dim, null, null, 0, 0, as, ar.offset(), dim);
                }
                FloatRows.linearInto(be, ar, weights[i], biases[i], y);
            }
            if (i < config.layers && config.residual) {
                MemorySegment ys = y.storageSegment();
                for (long j = 0, n = (long) rows * dim; j < n; j++) {
                    ys.setAtIndex(ValueLayout.JAVA_FLOAT, y.offset() + j,
                            ys.getAtIndex(ValueLayout.JAVA_FLOAT, y.offset() + j) + hs.getAtIndex(ValueLayout.JAVA_FLOAT, hr.offset() + j));
                }
            }
            sr = hr;
            hr = y;
        }
    }

    /**
     * The most floats of normed rows a thread keeps ({@link #normedRows}): 4 MB, a GTU's 1023 rows of 512 on one thread
     * fit. A larger run of rows goes through the [M, dim] buffer and the GEMM's own copy of it.
     */
    static final int NORMED_ROWS_MAX = 1 << 20;

    /** Per thread, the rows a block's norm writes for its GEMM to read in place; kept between calls, grown to the largest run. */
    private static final ThreadLocal<float[]> NORMED_ROWS = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] normedRows(int floats) {
        float[] rows = NORMED_ROWS.get();
        if (rows.length < floats) NORMED_ROWS.set(rows = new float[floats]);
        return rows;
    }

    /** y[r, :] += bias on lanes for every row of the contiguous rows y; nothing when bias is null. */
    private static void addBias(Tensor y, float[] bias) {
        if (bias == null) return;
        int rows = (int) y.dim(0), d = (int) y.dim(1);
        MemorySegment ys = y.storageSegment();
        FloatRows.biasActivation(Activation.NONE, rows, d, ys, y.offset(), d, bias, null, 0, 0, ys, y.offset(), d);
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
