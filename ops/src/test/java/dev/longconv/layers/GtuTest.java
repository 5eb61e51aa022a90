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
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gtu against a token-by-token float64 reference of tnn-pytorch's Gtu.forward, its gradients, and loading. */
class GtuTest {
    static final int[] LENGTHS = {1, 2, 5, 11, 23};

    record Case(Backend backend, long seed, DType dtype, int batch, int len, Gtu.Config config) {
        @Override
        public String toString() {
            return backend.name() + " seed=" + seed + " " + dtype + " B=" + batch + " L=" + len + " " + config;
        }
    }

    static Gtu.Config randomConfig(SplittableRandom rng, int index) {
        int e = 2 + rng.nextInt(4), h = 1 + rng.nextInt(3);
        double ratio = new double[] {1.5, 2, 3}[rng.nextInt(3)];
        boolean normalize = index % 5 == 3;
        Activation actType = normalize ? TnoTest.POSITIVE[rng.nextInt(TnoTest.POSITIVE.length)]
                : Activation.values()[(index * 3) % Activation.values().length];
        boolean causal = index % 2 == 1;
        return new Gtu.Config(e, h, rng.nextBoolean(), Activation.values()[index % Activation.values().length], causal, ratio,
                index % 3 != 0, NormType.values()[index % NormType.values().length], index % 4 == 1, index % 4 == 2, rng.nextInt(3),
                1 + rng.nextInt(5), Activation.values()[(index * 7 + 1) % Activation.values().length], normalize,
                causal ? 1 + rng.nextInt(3) : 1 + rng.nextInt(2), rng.nextBoolean(), rng.nextDouble(0.5, 0.99), actType);
    }

    static Map<String, Tensor> stateDict(Gtu.Config c, DType dt, long seed) {
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(Gtu.shapes(c), dt, seed);
        if (c.useDecay()) TnnTestSupport.fixedDecay(sd.get("toep.gamma"), seed + 1);
        return sd;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.forwardBackends()) {
            SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 1);
            int index = 0;
            for (int len : LENGTHS) {
                for (DType dt : DType.values()) {
                    for (int rep = 0; rep < 2; rep++, index++) {
                        LayerChecks.addIf(out, be, dt, Arguments.of(new Case(be, rng.nextLong(), dt, 1 + rng.nextInt(2), len, randomConfig(rng, index))));
                    }
                }
            }
        }
        return out.stream();
    }

    /** tnn-pytorch's Gtu.forward (ski-tnn's for the other tno_types), one token and one head at a time. */
    static Tensor reference(Map<String, Tensor> sd, Gtu.Config c, Tensor x) {
        int b = (int) x.dim(0), len = (int) x.dim(1), e = c.embedDim(), h = c.numHeads();
        int d1 = (int) (c.expandRatio() * e) / h * h, hd = d1 / h;
        double[][][] u = new double[b][len][], v = new double[b][len][];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < len; t++) {
                double[] xt = new double[e];
                for (int j = 0; j < e; j++) xt[j] = x.get(i, t, j);
                u[i][t] = TnnReference.linear(xt, sd, "u_proj.");
                v[i][t] = TnnReference.linear(xt, sd, "v_proj.");
                for (int j = 0; j < d1; j++) {
                    u[i][t][j] = TnnReference.act(c.actFun().upstreamName(), u[i][t][j]);
                    v[i][t][j] = TnnReference.act(c.actFun().upstreamName(), v[i][t][j]);
                }
            }
        }
        double[][][][] mixed = new double[b][h][len][hd];
        if (c.tnoType() == Gtu.TnoType.TNO) {
            Tno.Config tc = new Tno.Config(h, hd, c.rpeEmbedding(), c.causal(), c.useDecay(), c.useMultiDecay(), c.residual(), c.rpeAct(),
                    c.parType(), c.gamma(), c.bias(), c.actType(), c.rpeLayers(), c.normType(), c.normalize());
            double[][] a = TnnReference.tnoCoefficients(sd, "toep.", tc, c.rpeAct().upstreamName(), c.actType().upstreamName(),
                    c.normType().upstreamName(), len);
            double[][][][] heads = new double[b][h][len][hd]; // 'b n (h d) -> b h n d'
            for (int i = 0; i < b; i++) for (int hh = 0; hh < h; hh++) for (int t = 0; t < len; t++) for (int j = 0; j < hd; j++) heads[i][hh][t][j] = v[i][t][hh * hd + j];
            mixed = TnnReference.tno(heads, a, tc);
        } else {
            double[][][] m = switch (c.tnoType()) {
                case TNO_FD -> SkiTnnReference.fdTno(sd, "toep.", c.fdTno(), len);
                case TNO_FD_NORPE -> SkiTnnReference.fdTnoNoRpe(sd, "toep.", c.fdTnoNoRpe(), len);
                case SKITNO -> SkiTnnReference.skiTnoRpe(sd, "toep.", c.skiTno(), len, x.dtype());
                default -> SkiTnnReference.skiTnoInvTime(sd, "toep.", c.skiTnoInvTime(), len, x.dtype());
            };
            for (int i = 0; i < b; i++)
                for (int q = 0; q < d1; q++)
                    for (int t = 0; t < len; t++) {
                        double acc = 0;
                        for (int s = 0; s < len; s++) acc += m[q][t][s] * v[i][s][q];
                        mixed[i][q / hd][t][q % hd] = acc;
                    }
        }
        Tensor y = Tensor.zeros(DType.FLOAT64, b, len, e);
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < len; t++) {
                double[] p = new double[d1];
                for (int hh = 0; hh < h; hh++) for (int j = 0; j < hd; j++) p[hh * hd + j] = u[i][t][hh * hd + j] * mixed[i][hh][t][j];
                if (c.useNorm()) p = TnnReference.norm(c.normType().upstreamName(), p, sd, "norm.");
                double[] yt = TnnReference.linear(p, sd, "o.");
                for (int j = 0; j < e; j++) y.set(yt[j], i, t, j);
            }
        }
        return y;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesReference(Case k) {
        Gtu.Config c = k.config;
        Map<String, Tensor> sd = stateDict(c, k.dtype, k.seed);
        try (Tensor x = Tensor.random(k.dtype, k.seed ^ 99, k.batch, k.len, c.embedDim());
             Tensor y = new Gtu(c, sd).forward(k.backend, x); Tensor expected = reference(sd, c, x)) {
            Compare.assertClose(y, expected, k.dtype, "gtu " + k);
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    /**
     * Weights and input over heap arrays ({@code Tensor.wrap} of heap segments): the vector backend's lane loops take
     * native memory only, so the layer takes its element-wise and copying paths for them, with the same result. The
     * defaults (a 512-wide ReLU encoder with simple RMS norms, whose first block, norms and activations run on lanes for
     * native memory) and a few random configurations.
     */
    @Test
    void weightsAndInputOverHeapMemoryMatchTheReference() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 11);
        for (Backend be : LayerChecks.forwardBackends()) {
            for (DType dt : DType.values()) {
                for (int index = 0; index < 4; index++) {
                    Gtu.Config c = index == 0 ? Gtu.Config.defaults(16, 2) : randomConfig(rng, index);
                    long seed = rng.nextLong();
                    if (be.name().equals("cuda") && dt == DType.FLOAT64) continue;
                    Map<String, Tensor> sd = stateDict(c, dt, seed);
                    try (Tensor x = Tensor.random(dt, seed ^ 99, 2, 19, c.embedDim()); Tensor expected = reference(sd, c, x);
                         Tensor y = new Gtu(c, dev.longconv.testing.HeapTensors.onHeap(sd)).forward(be, dev.longconv.testing.HeapTensors.onHeap(x))) {
                        Compare.assertClose(y, expected, dt, "gtu over heap memory " + be.name() + " seed=" + seed + " " + dt + " " + c);
                    } finally {
                        TnnTestSupport.closeAll(sd);
                    }
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 13);
        int[] lengths = {1, 3, 5};
        for (Backend be : TnnTestSupport.backends()) {
            for (int index = 0; index < 6; index++) {
                Gtu.Config r = randomConfig(rng, index);
                Activation act = smooth(r.actFun()), rpeAct = smooth(r.rpeAct()), actType = smooth(r.actType());
                int len = lengths[index % lengths.length];
                Gtu.Config c = new Gtu.Config(3, 2, r.bias(), act, r.causal(), 2, r.useNorm(), r.normType(), r.useDecay(), r.useMultiDecay(),
                        1, 3, rpeAct, r.normalize() && len > 1, r.parType(), r.residual(), r.gamma(), actType);
                long seed = rng.nextLong();
                Map<String, Tensor> sd = stateDict(c, DType.FLOAT64, seed);
                try (Tensor x = Tensor.random(DType.FLOAT64, seed ^ 3, 2, len, 3)) {
                    TnnTestSupport.checkGradients(new Gtu(c, sd), be, x, seed, "gtu " + be.name() + " L=" + len + " " + c);
                } finally {
                    TnnTestSupport.closeAll(sd);
                }
            }
        }
    }

    /** A ski-tnn Gtu of each tno_type: its state_dict (SKI buffers included, γ in [0.8, 0.999)). */
    static Map<String, Tensor> skiTnnStateDict(Gtu.Config c, DType dt, long seed) {
        Map<String, Tensor> sd = new java.util.LinkedHashMap<>(stateDict(c, dt, seed));
        if (c.tnoType().ski()) {
            Tensor g = Tensor.zeros(dt, 1);
            g.setFlat(0, (float) new SplittableRandom(seed).nextDouble(0.8, 0.999));
            sd.put("toep.gamma", g);
            if (c.tnoType() == Gtu.TnoType.SKITNO) sd.put("toep.inducing", TnoTensors.write(TorchFloat32.linspace(0, 1, c.rank()), dt, c.rank()));
        }
        return sd;
    }

    static Gtu.Config skiTnnConfig(SplittableRandom rng, Gtu.TnoType type, boolean causal, boolean forGradients) {
        Activation act = forGradients ? Activation.SILU : Activation.values()[rng.nextInt(6)];
        return new Gtu.Config(2 + rng.nextInt(3), 1 + rng.nextInt(2), rng.nextBoolean(), act, causal, 2, rng.nextBoolean(),
                NormType.values()[rng.nextInt(NormType.values().length)], false, false, rng.nextInt(2), 3 + rng.nextInt(3),
                forGradients ? Activation.GELU : Activation.values()[rng.nextInt(6)], false, 1, rng.nextBoolean(), 0.99,
                type.ski() ? Activation.SIGMOID : Activation.NONE, type, 2 + rng.nextInt(4), 1 + rng.nextInt(5),
                rng.nextBoolean() ? FrequencyGrid.UPSTREAM : FrequencyGrid.FAST);
    }

    @Test
    void everyTnoTypeMatchesItsReferenceAndFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 41);
        int[] lengths = {2, 5, 11};
        for (Backend be : TnnTestSupport.backends()) {
            for (Gtu.TnoType type : Gtu.TnoType.values()) {
                for (boolean causal : new boolean[] {false, true}) {
                    for (DType dt : DType.values()) {
                        Gtu.Config c = skiTnnConfig(rng, type, causal, false);
                        long seed = rng.nextLong();
                        int len = lengths[rng.nextInt(lengths.length)];
                        Map<String, Tensor> sd = skiTnnStateDict(c, dt, seed);
                        try (Tensor x = Tensor.random(dt, seed ^ 5, 2, len, c.embedDim()); Tensor y = new Gtu(c, sd).forward(be, x);
                             Tensor e = reference(sd, c, x)) {
                            Compare.assertClose(y, e, dt, "gtu " + type.key() + " " + be.name() + " seed=" + seed + " L=" + len + " " + c);
                        } finally {
                            TnnTestSupport.closeAll(sd);
                        }
                    }
                    Gtu.Config c = skiTnnConfig(rng, type, causal, true);
                    long seed = rng.nextLong();
                    Map<String, Tensor> sd = skiTnnStateDict(c, DType.FLOAT64, seed);
                    try (Tensor x = Tensor.random(DType.FLOAT64, seed ^ 9, 2, 4, c.embedDim())) {
                        TnnTestSupport.checkGradients(new Gtu(c, sd), be, x, seed, "gtu " + type.key() + " " + be.name() + " " + c);
                    } finally {
                        TnnTestSupport.closeAll(sd);
                    }
                }
            }
        }
    }

    @Test
    void skiTnnTnoTypesLoadFromMetadata() {
        Map<String, String> meta = Map.of("embed_dim", "4", "num_heads", "2", "expand_ratio", "1", "rpe_layers", "1", "rpe_embedding", "3",
                "tno_type", "skitno_inv_time", "rank", "3", "nk", "2", "causal", "false");
        Gtu.Config c = Gtu.Config.parse(new TnoHyperparameters(Gtu.NAME, meta, Map.of()));
        assertEquals(Gtu.TnoType.SKITNO_INV_TIME, c.tnoType());
        assertEquals(3, c.skiTnoInvTime().nk());
        Map<String, Tensor> sd = skiTnnStateDict(c, DType.FLOAT64, 5);
        try {
            assertTrue(sd.keySet().containsAll(List.of("toep.conv_kernel", "toep.alphas", "toep.betas", "toep.gamma")), sd.keySet().toString());
            Gtu g = Gtu.load(Weights.of("in-memory", sd, meta), Map.of());
            try (Tensor x = Tensor.random(DType.FLOAT64, 4, 1, 6, 4); Tensor y = g.forward(new ScalarBackend(), x); Tensor e = reference(sd, c, x)) {
                Compare.assertClose(y, e, DType.FLOAT64, "gtu skitno_inv_time loaded");
            }
            LongConvException ex = assertThrows(LongConvException.class, () -> Gtu.load(Weights.of("in-memory", sd, meta), Map.of("normalize", "true")));
            assertTrue(ex.getMessage().startsWith("gtu") && ex.getMessage().contains("normalize"), ex.getMessage());
            ex = assertThrows(LongConvException.class, () -> Gtu.load(Weights.of("in-memory", sd, meta), Map.of("tno_type", "tno_inv_time")));
            assertTrue(ex.getMessage().contains("tno_type") && ex.getMessage().contains("tno_inv_time"), ex.getMessage());
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    /** Kinks at exact zeros make finite differences meaningless. */
    static Activation smooth(Activation a) {
        return a == Activation.RELU || a == Activation.LEAK ? Activation.SILU : a;
    }

    @Test
    void loadsUpstreamNamesAndDefaults() {
        Gtu.Config c = Gtu.Config.defaults(4, 2);
        assertEquals(12, c.innerDim());
        Gtu.Config small = new Gtu.Config(4, 2, true, Activation.SILU, true, 1.5, true, NormType.RMS, true, false, 1, 3, Activation.RELU,
                false, 1, false, 0.99, Activation.NONE);
        Map<String, Tensor> sd = stateDict(small, DType.FLOAT32, 21);
        try {
            assertEquals(List.of("v_proj.weight", "v_proj.bias", "u_proj.weight", "u_proj.bias", "o.weight", "o.bias", "toep.gamma",
                    "toep.rpe.pos_proj.weight", "toep.rpe.pos_proj.bias", "toep.rpe.layers.0.0.scale", "toep.rpe.layers.0.2.weight",
                    "toep.rpe.layers.0.2.bias", "toep.rpe.out.0.scale", "toep.rpe.out.2.weight", "toep.rpe.out.2.bias", "norm.scale"),
                    List.copyOf(sd.keySet()));
            assertArrayEquals(new long[] {2, 1, 3}, sd.get("toep.gamma").shape());
            Map<String, String> meta = new HashMap<>(Map.of("embed_dim", "4", "num_heads", "2", "causal", "true", "expand_ratio", "1.5",
                    "use_norm", "true", "norm_type", "rmsnorm", "use_decay", "true", "rpe_layers", "1", "rpe_embedding", "3"));
            Gtu g = Gtu.load(Weights.of("in-memory", sd, meta), Map.of());
            assertEquals(small, g.config());
            try (Tensor x = Tensor.random(DType.FLOAT32, 4, 2, 7, 4); Tensor y = g.forward(new ScalarBackend(), x); Tensor e = reference(sd, small, x)) {
                Compare.assertClose(y, e, DType.FLOAT32, "gtu loaded");
            }
            LongConvException ex = assertThrows(LongConvException.class, () -> Gtu.load(Weights.of("in-memory", sd, meta), Map.of("resi_param", "True")));
            assertTrue(ex.getMessage().startsWith("gtu") && ex.getMessage().contains("resi_param"), ex.getMessage());
            try (Tensor bad = Tensor.zeros(DType.FLOAT32, 2, 7, 5)) {
                ex = assertThrows(LongConvException.class, () -> g.forward(new ScalarBackend(), bad));
                assertTrue(ex.getMessage().contains("embed_dim=4") && ex.getMessage().contains("[2, 7, 5]"), ex.getMessage());
            }
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }
}
