package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Backend;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The block layers (tnn-pytorch's GLU and TnnLayer, flash-stu's STULayer) against float64 references written token by
 * token from upstream's forward (the sub-modules through the references of GtuTest and StuTest), at seeded random
 * shapes (L = 1, odd and prime L), their gradients against finite differences, loading by upstream's names, and errors.
 */
class BlockLayersTest {
    static final int[] LENGTHS = {1, 2, 7, 13};

    enum Kind { GLU, TNN_PRENORM, TNN_POSTNORM, STU_LAYER }

    record Case(Backend backend, Kind kind, long seed, DType dtype, int batch, int len) {
        @Override
        public String toString() {
            return backend.name() + " " + kind + " seed=" + seed + " " + dtype + " B=" + batch + " L=" + len;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.forwardBackends()) {
            SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 51);
            for (Kind kind : Kind.values()) {
                for (int len : LENGTHS) {
                    for (DType dt : DType.values()) {
                        LayerChecks.addIf(out, be, dt, Arguments.of(new Case(be, kind, rng.nextLong(), dt, 1 + rng.nextInt(2), len)));
                    }
                }
            }
        }
        return out.stream();
    }

    // ---------------------------------------------------------------- models

    /** A layer with random weights, its state_dict (by upstream's names) and what the reference needs. */
    record Model(Layer layer, Map<String, Tensor> sd, Object config, StuTest.Model stu) implements AutoCloseable {
        @Override
        public void close() {
            TnnTestSupport.closeAll(sd);
            if (stu != null) stu.close();
        }
    }

    static Glu.Config gluConfig(SplittableRandom rng, boolean smooth) {
        Activation act = Activation.values()[rng.nextInt(Activation.values().length)];
        Activation fina = rng.nextInt(3) == 0 ? Activation.values()[rng.nextInt(6)] : Activation.NONE;
        return new Glu.Config(1 + rng.nextInt(4), 1 + rng.nextInt(5), smooth ? GtuTest.smooth(act) : act, smooth ? GtuTest.smooth(fina) : fina,
                rng.nextBoolean());
    }

    /** For gradients (smooth) dim >= 3: a LayerNorm over two features is ±1 · t/sqrt(t² + 1e-5), too steep near 0 for finite differences. */
    static TnnLayer.Config tnnConfig(SplittableRandom rng, boolean prenorm, boolean smooth) {
        int h = 1 + rng.nextInt(2), dim = (smooth ? 3 : 2) + rng.nextInt(3);
        NormType norm = NormType.values()[rng.nextInt(NormType.values().length)];
        Activation gtuAct = Activation.values()[rng.nextInt(6)], rpeAct = Activation.values()[rng.nextInt(6)], gluAct = Activation.values()[rng.nextInt(6)];
        if (smooth) {
            gtuAct = GtuTest.smooth(gtuAct);
            rpeAct = GtuTest.smooth(rpeAct);
            gluAct = GtuTest.smooth(gluAct);
        }
        return new TnnLayer.Config(dim, h, 3 + rng.nextInt(3), 2 + rng.nextInt(4), prenorm, norm, rng.nextBoolean(), gtuAct,
                new double[] {1, 1.5, 2}[rng.nextInt(3)], rng.nextBoolean(), 0.9, rpeAct, rng.nextInt(2), gluAct);
    }

    static Model build(Kind kind, long seed, DType dt, boolean smooth) {
        SplittableRandom rng = new SplittableRandom(seed);
        switch (kind) {
            case GLU -> {
                Glu.Config c = gluConfig(rng, smooth);
                Map<String, Tensor> sd = TnnTestSupport.randomStateDict(Glu.shapes(c, ""), dt, rng.nextLong());
                return new Model(new Glu(c, sd), sd, c, null);
            }
            case TNN_PRENORM, TNN_POSTNORM -> {
                TnnLayer.Config c = tnnConfig(rng, kind == Kind.TNN_PRENORM, smooth);
                Map<String, Tensor> sd = TnnTestSupport.randomStateDict(TnnLayer.shapes(c), dt, rng.nextLong());
                if (c.useDecay()) TnnTestSupport.fixedDecay(sd.get("token_mixer.toep.gamma"), rng.nextLong());
                return new Model(new TnnLayer(c, sd), sd, c, null);
            }
            default -> {
                int d = 2 + rng.nextInt(3), k = 1 + rng.nextInt(4), hidden = d * (1 + rng.nextInt(3));
                Stu.Mode mode = rng.nextBoolean() ? Stu.Mode.APPROX : Stu.Mode.EXACT;
                StuTest.Model stu = StuTest.model(rng.nextLong(), mode, rng.nextBoolean(), 1 + rng.nextInt(20), k, d, d, 0, 0);
                boolean bias = rng.nextBoolean();
                StuLayer.GateActivation act = rng.nextInt(4) == 0 ? StuLayer.GateActivation.SILU : StuLayer.GateActivation.GELU_TANH;
                StuLayer.Config c = new StuLayer.Config(d, hidden, bias, act, rng.nextBoolean() ? Double.NaN : 1e-6);
                Map<String, long[]> shapes = new LinkedHashMap<>();
                shapes.put("stu_norm.weight", new long[] {d});
                shapes.put("mlp_norm.weight", new long[] {d});
                for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                    boolean down = p.equals("down_proj");
                    shapes.put("mlp." + p + ".weight", down ? new long[] {d, hidden} : new long[] {hidden, d});
                    if (bias) shapes.put("mlp." + p + ".bias", new long[] {down ? d : hidden});
                }
                Map<String, Tensor> sd = TnnTestSupport.randomStateDict(shapes, dt, rng.nextLong());
                return new Model(new StuLayer(c, stu.layer(), sd), sd, c, stu);
            }
        }
    }

    static Tensor input(Model m, Kind kind, DType dt, long seed, int b, int len) {
        int d = switch (kind) {
            case GLU -> ((Glu.Config) m.config).d1();
            case TNN_PRENORM, TNN_POSTNORM -> ((TnnLayer.Config) m.config).dim();
            default -> ((StuLayer.Config) m.config).nEmbd();
        };
        return Tensor.random(dt, seed, b, len, d);
    }

    // ---------------------------------------------------------------- references

    /** GLU.forward on one row: fina_act(l3(act(l1 x) * l2 x)). */
    static double[] glu(double[] x, Map<String, Tensor> sd, String p, Glu.Config c) {
        double[] o1 = TnnReference.linear(x, sd, p + "l1."), o2 = TnnReference.linear(x, sd, p + "l2.");
        double[] h = new double[o1.length];
        for (int i = 0; i < h.length; i++) h[i] = TnnReference.act(c.actFun().upstreamName(), o1[i]) * o2[i];
        double[] y = TnnReference.linear(h, sd, p + "l3.");
        for (int i = 0; i < y.length; i++) y[i] = TnnReference.act(c.finaAct().upstreamName(), y[i]);
        return y;
    }

    static double[] row(Tensor x, int b, int t) {
        double[] r = new double[(int) x.dim(2)];
        for (int j = 0; j < r.length; j++) r[j] = x.get(b, t, j);
        return r;
    }

    static Tensor rowsToTensor(double[][][] rows) {
        Tensor y = Tensor.zeros(DType.FLOAT64, rows.length, rows[0].length, rows[0][0].length);
        for (int b = 0; b < rows.length; b++) for (int t = 0; t < rows[0].length; t++) for (int j = 0; j < rows[0][0].length; j++) y.set(rows[b][t][j], b, t, j);
        return y;
    }

    /** torch.nn.RMSNorm on one row. */
    static double[] rms(double[] x, Tensor w, double eps) {
        double s = 0;
        for (double v : x) s += v * v;
        double r = 1 / Math.sqrt(s / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * r * w.getFlat(i);
        return y;
    }

    static double gate(StuLayer.GateActivation a, double x) {
        if (a == StuLayer.GateActivation.SILU) return x / (1 + Math.exp(-x));
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    static Tensor reference(Kind kind, Model m, Tensor x) {
        int b = (int) x.dim(0), len = (int) x.dim(1);
        switch (kind) {
            case GLU -> {
                double[][][] y = new double[b][len][];
                for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) y[i][t] = glu(row(x, i, t), m.sd, "", (Glu.Config) m.config);
                return rowsToTensor(y);
            }
            case TNN_PRENORM, TNN_POSTNORM -> {
                TnnLayer.Config c = (TnnLayer.Config) m.config;
                String norm = c.normType().upstreamName();
                Map<String, Tensor> gtuSd = Blocks.strip(m.sd, "token_mixer.");
                double[][][] x1 = new double[b][len][];
                double[][][] tin = new double[b][len][];
                for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) {
                    double[] r = row(x, i, t);
                    tin[i][t] = c.prenorm() ? TnnReference.norm(norm, r, m.sd, "token_norm.") : r;
                }
                try (Tensor tt = rowsToTensor(tin); Tensor mixed = GtuTest.reference(gtuSd, c.gtu(), tt)) {
                    for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) {
                        double[] mr = row(mixed, i, t), r = row(x, i, t);
                        if (!c.prenorm()) mr = TnnReference.norm(norm, mr, m.sd, "token_norm.");
                        x1[i][t] = new double[r.length];
                        for (int j = 0; j < r.length; j++) x1[i][t][j] = r[j] + mr[j];
                    }
                }
                double[][][] y = new double[b][len][];
                for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) {
                    double[] h = x1[i][t];
                    double[] f = c.prenorm() ? glu(TnnReference.norm(norm, h, m.sd, "feature_norm."), m.sd, "feature_mixer.", c.glu())
                            : TnnReference.norm(norm, glu(h, m.sd, "feature_mixer.", c.glu()), m.sd, "feature_norm.");
                    y[i][t] = new double[h.length];
                    for (int j = 0; j < h.length; j++) y[i][t][j] = h[j] + f[j];
                }
                return rowsToTensor(y);
            }
            default -> {
                StuLayer.Config c = (StuLayer.Config) m.config;
                double eps = !Double.isNaN(c.normEps()) ? c.normEps() : x.dtype() == DType.FLOAT32 ? 1.1920928955078125e-7 : 2.220446049250313e-16;
                double[][][] n1 = new double[b][len][];
                for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) n1[i][t] = rms(row(x, i, t), m.sd.get("stu_norm.weight"), eps);
                double[] s;
                try (Tensor nt = rowsToTensor(n1)) {
                    s = StuTest.reference(m.stu, nt);
                }
                int d = c.nEmbd();
                double[][][] y = new double[b][len][];
                for (int i = 0; i < b; i++) for (int t = 0; t < len; t++) {
                    double[] r = row(x, i, t), x1 = new double[d];
                    for (int j = 0; j < d; j++) x1[j] = r[j] + s[(i * len + t) * d + j];
                    double[] n2 = rms(x1, m.sd.get("mlp_norm.weight"), eps);
                    double[] g = TnnReference.linear(n2, m.sd, "mlp.gate_proj."), u = TnnReference.linear(n2, m.sd, "mlp.up_proj.");
                    double[] h = new double[g.length];
                    for (int j = 0; j < h.length; j++) h[j] = gate(c.mlpAct(), g[j]) * u[j];
                    double[] o = TnnReference.linear(h, m.sd, "mlp.down_proj.");
                    y[i][t] = new double[d];
                    for (int j = 0; j < d; j++) y[i][t][j] = x1[j] + o[j];
                }
                return rowsToTensor(y);
            }
        }
    }

    // ---------------------------------------------------------------- tests

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesReference(Case k) {
        try (Model m = build(k.kind, k.seed, k.dtype, false); Tensor x = input(m, k.kind, k.dtype, k.seed ^ 11, k.batch, k.len);
             Tensor y = m.layer.forward(k.backend, x); Tensor e = reference(k.kind, m, x)) {
            Compare.assertClose(y, e, k.dtype, k.toString());
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 53);
        for (Backend be : TnnTestSupport.backends()) {
            for (Kind kind : Kind.values()) {
                for (int rep = 0; rep < 2; rep++) {
                    long seed = rng.nextLong();
                    int len = rep == 0 ? 1 : 5;
                    try (Model m = build(kind, seed, DType.FLOAT64, true); Tensor x = input(m, kind, DType.FLOAT64, seed ^ 3, 2, len)) {
                        TnnTestSupport.checkGradients(m.layer, be, x, seed, kind + " " + be.name() + " L=" + len + " " + m.config);
                    }
                }
            }
        }
    }

    @Test
    void loadWithUpstreamNames() {
        TnnLayer.Config c = TnnLayer.Config.defaults(4, 2, 3, 6);
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(TnnLayer.shapes(c), DType.FLOAT64, 2);
        try {
            assertTrue(sd.containsKey("token_mixer.toep.rpe.pos_proj.weight") && sd.containsKey("feature_mixer.l3.bias"), sd.keySet().toString());
            assertEquals(List.of("token_mixer.v_proj.weight", "token_mixer.v_proj.bias"), List.copyOf(sd.keySet()).subList(0, 2));
            TnnLayer t = TnnLayer.load(Weights.of("in-memory", sd, Map.of("dim", "4", "num_heads", "2", "rpe_embedding", "3", "glu_dim", "6")), Map.of());
            assertEquals(c, t.config());
            try (Tensor bad = Tensor.zeros(DType.FLOAT64, 1, 3, 5)) {
                LongConvException e = assertThrows(LongConvException.class, () -> t.forward(new ScalarBackend(), bad));
                assertTrue(e.getMessage().startsWith("tnn-layer") && e.getMessage().contains("dim=4") && e.getMessage().contains("[1, 3, 5]"), e.getMessage());
            }
            LongConvException e = assertThrows(LongConvException.class,
                    () -> Glu.load(Weights.of("in-memory", Blocks.strip(sd, "feature_mixer."), Map.of("d1", "4", "d2", "6")), Map.of()));
            assertTrue(e.getMessage().startsWith("glu") && e.getMessage().contains("act_fun"), e.getMessage());
            Glu g = Glu.load(Weights.of("in-memory", Blocks.strip(sd, "feature_mixer."), Map.of("d1", "4", "d2", "6", "act_fun", "silu")), Map.of());
            assertEquals(c.glu(), g.config());
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    @Test
    void stuLayerLoadsFlashStuNamesAndWarnsWithoutPhi() {
        try (Model m = build(Kind.STU_LAYER, 77, DType.FLOAT64, false)) {
            StuLayer.Config c = (StuLayer.Config) m.config;
            Map<String, Tensor> file = new LinkedHashMap<>(m.sd);
            m.stu.params().forEach((n, t) -> file.put("stu." + n, t));
            Map<String, String> meta = new HashMap<>(Map.of("upstream", "flash-stu", "seq_len", String.valueOf(m.stu.phi().dim(0)),
                    "use_hankel_L", String.valueOf(m.stu.config().hankelL()), "mlp_act", c.mlpAct() == StuLayer.GateActivation.SILU ? "silu" : "gelu_tanh"));
            if (!Double.isNaN(c.normEps())) meta.put("norm_eps", String.valueOf(c.normEps()));
            Map<String, Tensor> withPhi = new LinkedHashMap<>(file);
            withPhi.put("stu.phi", m.stu.phi());
            StuLayer loaded = StuLayer.load(Weights.of("with-phi.safetensors", withPhi, meta), Map.of());
            assertEquals(c, loaded.config());
            assertEquals(m.layer.parameters().keySet(), loaded.parameters().keySet());
            try (Tensor x = Tensor.random(DType.FLOAT64, 3, 2, 9, c.nEmbd()); Tensor y = loaded.forward(new ScalarBackend(), x); Tensor e = reference(Kind.STU_LAYER, m, x)) {
                Compare.assertClose(y, e, DType.FLOAT64, "stu-layer loaded");
            }
            assertTrue(FlashStuFilters.warnIfMissing("without-phi-" + System.nanoTime(), meta), "a flash-stu file without phi should warn");
            String source = "once-" + System.nanoTime();
            assertTrue(FlashStuFilters.warnIfMissing(source, meta));
            assertTrue(!FlashStuFilters.warnIfMissing(source, meta), "warns once per file");
            assertTrue(!FlashStuFilters.warnIfMissing("other-" + System.nanoTime(), Map.of("seq_len", "8")), "only flash-stu files");
        }
    }
}
